"""A local world for the tests and the benchmarks alike: feed bodies built to order
(``builders``) and a WebSub hub with an in-process daemon (``hub``). Neither the tests
nor the benchmarks import each other; both import this."""
