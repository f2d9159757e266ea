"""What the tests share besides their fixtures (``tests/conftest.py``): local servers,
the command line run as a user runs it, clocks and values, running daemons, the
reference matcher, a browser, and databases of every released schema."""
