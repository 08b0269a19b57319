# One image for every process (web, worker, beat, mcp): docker/entrypoint.sh picks the role.
# Healthchecks are declared per service in docker-compose.yml, since each role answers differently.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=infrastructor.settings \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:${PATH}"

# openssh-client: users may point devices at an ssh config, known_hosts or an agent socket.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv \
    && useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin infra

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache

# The code and collected static files stay owned by root, so the app cannot rewrite itself; only
# logs/ is writable (a named volume mounted there inherits this ownership on first use).
COPY . .
RUN chmod 0755 docker/entrypoint.sh \
    && SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput \
    && mkdir -p /app/logs \
    && chown infra:infra /app/logs

USER infra

EXPOSE 9101 9102
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
