# One image for every hub process; docker-compose.yml picks the command. The package carries its
# configuration and schemas (package data), so the installed hub needs nothing from /app at run time.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY schemas ./schemas
COPY config ./config
RUN pip install --no-cache-dir . && rm -rf build
USER nobody
ENTRYPOINT ["laporhub"]
