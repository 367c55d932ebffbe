# One image for every hub process; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY schemas ./schemas
COPY config ./config
RUN pip install --no-cache-dir -e .
USER nobody
ENTRYPOINT ["laporhub"]
