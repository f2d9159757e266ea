# news-monitor: the daemon on its embedded SQLite store.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NEWS_MONITOR_STORAGE=sqlite:////data/monitor.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY seeds ./seeds
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data monitor \
    && mkdir -p /data && chown monitor /data

USER monitor
VOLUME ["/data"]
ENTRYPOINT ["news-monitor"]
CMD ["run", "-c", "/config/monitor.yaml"]
