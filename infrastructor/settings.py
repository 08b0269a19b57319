"""Settings for every Infrastructor process, read from the environment (see .env.example).

One file for every environment: what differs between a laptop, CI and a homelab server is set
with environment variables or a `.env` file next to manage.py, never with settings trees.
"""

from __future__ import annotations

import os
from pathlib import Path

import django_stubs_ext
import environ

from devices.history.retention_env import parse_overrides

# Lets `admin.ModelAdmin[Device]` and friends (generic in the type stubs) work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = Path(env.str("INFRA_ENV_FILE", default=str(BASE_DIR / ".env")))
if _env_file.is_file():
    environ.Env.read_env(_env_file, overwrite=False)

# The default key only exists so a fresh checkout runs; `./infra start` writes a random one to
# .env, and a system check warns whenever the default is in use.
INSECURE_DEFAULT_SECRET_KEY = "insecure-dev-key-set-SECRET_KEY-in-.env"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

WEB_PORT = env.int("WEB_PORT", default=9101)
MCP_PORT = env.int("MCP_PORT", default=9102)
# MCP (`manage.py runmcp`). Over stdio the server acts as this API token: its clear value
# (ifr_...) or the name of an active token. Over HTTP every request brings its own bearer token.
MCP_TOKEN = env.str("MCP_TOKEN", default="")
# Write tools (container start/stop/restart, ZFS snapshots and scrub, collect now) are offered
# to agents only when this is on, and then work only for operator-scope tokens.
MCP_ALLOW_WRITES = env.bool("MCP_ALLOW_WRITES", default=False)

INSTALLED_APPS = [
    "daphne",
    "devices.console.apps.ConsoleAdminConfig",  # the admin, with the console as its site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "django_celery_beat",
    "infrastructor.apps.InfrastructorConfig",
    "collectors",
    "devices",
    "containers",
    "zfs",
    "proxies",
    "mcp_bridge",
]

MIDDLEWARE = [
    "infrastructor.logs.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "infrastructor.urls"
ASGI_APPLICATION = "infrastructor.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/infrastructor"),
}
# A pool of connections per process (psycopg_pool), shared by its threads. Under daphne every
# request runs in a thread of its own, so a connection kept per thread (CONN_MAX_AGE) was opened
# for each request and left behind when the thread ended: a new PostgreSQL backend per request
# (most of a small request's time, bench/api.py) and idle connections piling up. A pooled
# connection goes back to the pool when Django closes it (end of request, end of task) and is
# checked before it is handed out again, so a PostgreSQL restart costs one reconnect.
# DB_POOL_MAX_SIZE=0 turns the pool off: then DB_CONN_MAX_AGE keeps connections per thread.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=20)
if DB_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's rule: pooled connections are not kept
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env.int("DB_POOL_MIN_SIZE", default=2), DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        # Seconds a thread waits for a free connection before its request or task fails.
        "timeout": env.float("DB_POOL_TIMEOUT", default=30.0),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
# Pooled: the pool checks a connection before handing it out; else Django before reusing it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "infrastructor.cache.SharedPoolRedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "infra",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": env.str("CHANNELS_REDIS_URL", default=REDIS_URL),
                    # redis-py's default 5 s read timeout equals channels-redis's 5 s BZPOPMIN:
                    # an idle socket's receive would fail now and then. Connecting stays quick,
                    # so a worker publishing while Redis is unreachable is not held up.
                    "socket_timeout": 30,
                    "socket_connect_timeout": 3,
                }
            ],
            "prefix": env.str("CHANNELS_PREFIX", default="infra:channels"),
            # Per consumer channel in Redis: messages waiting (past that, group_send drops them
            # for that socket only) and seconds a message may wait. The live stream is lossy by
            # design; each socket has its own bounded queue behind this one (STREAM_QUEUE_SIZE).
            "capacity": env.int("CHANNELS_CAPACITY", default=1000),
            "expiry": env.int("CHANNELS_EXPIRY_SECONDS", default=30),
            # Group memberships older than this are forgotten; sockets re-join well before.
            "group_expiry": 86400,
        },
    }
}

# --- Live stream (/ws/stream) ---
# Seconds a socket without a session or an Authorization header has to send {"action": "auth"}.
STREAM_AUTH_TIMEOUT_SECONDS = env.float("STREAM_AUTH_TIMEOUT_SECONDS", default=5.0)
STREAM_HEARTBEAT_SECONDS = env.float("STREAM_HEARTBEAT_SECONDS", default=20.0)
# Messages waiting for one slow client; past that the oldest are dropped (and counted).
STREAM_QUEUE_SIZE = env.int("STREAM_QUEUE_SIZE", default=256)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# Static files (admin, Swagger UI) are served by the app itself, from the installed packages:
# the platform works offline and needs no separate web server.
WHITENOISE_USE_FINDERS = True

# --- Security headers (the API and admin are meant to sit behind a TLS-terminating proxy) ---
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "infrastructor.auth.ApiTokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["infrastructor.auth.ScopePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "infrastructor.auth.PerTokenThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_RATE_LIMIT", default="1200/min"),
        "anon": env.str("API_RATE_LIMIT_ANON", default="60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Infrastructor API",
    "DESCRIPTION": "Devices, collection runs, events and metrics of an agentless homelab monitor.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "infrastructor.openapi.add_error_responses",
    ],
    # Choice sets that share a field name get names of their own (not Status844Enum).
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatusEnum": "devices.models.device.DeviceStatus",
        "RunStatusEnum": "collectors.models.RunStatus",
        "OperationStatusEnum": "collectors.models.OperationStatus",
        "ProxyConfStatusEnum": "proxies.models.ConfStatus",
        "EventKindEnum": "collectors.models.EventKind",
        "ProxyConfKindEnum": "proxies.models.ConfKind",
        "ProxyAuthEnum": "proxies.models.AuthMethod",
        "DeviceAuthMethodEnum": "devices.models.device.AuthMethod",
        "ConfigFileStatusEnum": "devices.models.configs.ConfigFileStatus",
        "WatchedPathSourceEnum": "devices.models.configs.WatchedPathSource",
        "AlertStateEnum": "collectors.alerts.models.AlertState",
        "ChannelKindEnum": "collectors.alerts.models.ChannelKind",
        "SeverityEnum": "collectors.models.Severity",
    },
}
SIMPLE_JWT = {"AUTH_HEADER_TYPES": ("Bearer",), "SIGNING_KEY": SECRET_KEY}

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_DEFAULT_QUEUE", default="default")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Tasks are acknowledged when received, except collections (collectors.tasks.collect_device acks
# late: safe to redo, so a worker killed mid-collection has its task delivered again).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands a message that was taken but never acknowledged (its worker died) out again once it
# is this old. It must exceed the longest countdown a waiting task holds unacknowledged (a
# notification's last retry waits 64 x NOTIFY_RETRY_BACKOFF_SECONDS, 32 min by default) and the
# longest task (a collection: SSH timeouts + 40 s), else a live task would be run twice. Workers
# look for such messages every RESTORE_INTERVAL x RESTORE_THROTTLE seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sites polled by their own workers (e.g. a worker at a remote site started with
# `-Q site.garage`): their devices go to the queue "<prefix><site>". Every other device, with or
# without a site, uses the default queue, so naming a site never silently stops its collection.
# "*" gives every site its own queue.
SITE_QUEUES = env.list("SITE_QUEUES", default=[])
SITE_QUEUE_PREFIX = env.str("SITE_QUEUE_PREFIX", default="site.")

# --- Collection ---
SSH_CONNECT_TIMEOUT = env.float("SSH_CONNECT_TIMEOUT", default=10.0)
SSH_COMMAND_TIMEOUT = env.float("SSH_COMMAND_TIMEOUT", default=60.0)
SSH_KEEPALIVE_INTERVAL = env.int("SSH_KEEPALIVE_INTERVAL", default=30)
SSH_POOL_IDLE_SECONDS = env.int("SSH_POOL_IDLE_SECONDS", default=600)
# Devices whose private keys are stored in the database are encrypted with this key (derived
# from SECRET_KEY when empty). Changing it makes stored keys unreadable.
DEVICE_SECRET_KEY = env.str("DEVICE_SECRET_KEY", default="")
COLLECT_OFFLINE_AFTER_FAILURES = env.int("COLLECT_OFFLINE_AFTER_FAILURES", default=2)
COLLECT_BACKOFF_BASE_SECONDS = env.int("COLLECT_BACKOFF_BASE_SECONDS", default=30)
COLLECT_BACKOFF_MAX_SECONDS = env.int("COLLECT_BACKOFF_MAX_SECONDS", default=900)
SYSTEM_METRICS_INTERVAL = env.int("SYSTEM_METRICS_INTERVAL", default=30)
STALE_AFTER_SECONDS = env.int("STALE_AFTER_SECONDS", default=600)
CONTAINERS_INTERVAL = env.int("CONTAINERS_INTERVAL", default=60)
ZFS_INTERVAL = env.int("ZFS_INTERVAL", default=300)
# A pool at or above this capacity raises pool.capacity_high (ZFS slows down past ~80 %).
ZPOOL_CAPACITY_WARNING_PCT = env.float("ZPOOL_CAPACITY_WARNING_PCT", default=80.0)
# A dataset that has snapshots but none newer than this raises snapshot.missing (a stuck
# sanoid/zfs-auto-snapshot job is how backups silently stop).
ZFS_SNAPSHOT_MAX_AGE_HOURS = env.int("ZFS_SNAPSHOT_MAX_AGE_HOURS", default=48)
# Days after the last finished scrub (or after first sight, for a pool never scrubbed) before
# scrub.overdue is raised. Monthly scrubs are the common advice; 35 days leaves a week of slack.
ZFS_SCRUB_MAX_AGE_DAYS = env.int("ZFS_SCRUB_MAX_AGE_DAYS", default=35)
# SWAG proxy confs: hashes every 5 minutes by default; a file's content only when it changed.
PROXIES_INTERVAL = env.int("PROXIES_INTERVAL", default=300)
# Drive health (smartctl). Polled every 15 minutes by default; `-n standby` never wakes a disk.
DRIVES_INTERVAL = env.int("DRIVES_INTERVAL", default=900)
# Listening ports (ss, or netstat where ss is missing): every 5 minutes by default.
PORTS_INTERVAL = env.int("PORTS_INTERVAL", default=300)
# Watched config files (Compose files, SWAG proxy confs, paths added by hand): hashes every 5
# minutes by default; a file's content only when it changed, and only up to this size (bytes;
# each watched path may set its own). Larger files are followed by hash and size only.
CONFIGS_INTERVAL = env.int("CONFIGS_INTERVAL", default=300)
CONFIG_MAX_FILE_BYTES = env.int("CONFIG_MAX_FILE_BYTES", default=256 * 1024)
# Keep config contents as they are, secrets included. Off: secret-looking values (PASSWORD=...,
# "token": "...", api_key: ...) are masked before storing (change detection still uses the real
# file's hash). The API and the admin mask them either way.
CONFIG_STORE_SECRETS = env.bool("CONFIG_STORE_SECRETS", default=False)
# drive.temperature_high above these (Celsius); cleared 3 degrees below. NVMe runs hotter.
DRIVE_TEMPERATURE_WARNING_C = env.int("DRIVE_TEMPERATURE_WARNING_C", default=55)
DRIVE_NVME_TEMPERATURE_WARNING_C = env.int("DRIVE_NVME_TEMPERATURE_WARNING_C", default=70)
# A warning raised by growing defect counters stays this long after the last growth.
DRIVE_WARNING_HOLD_DAYS = env.int("DRIVE_WARNING_HOLD_DAYS", default=7)
# The full attribute table goes into the history this often (and whenever the verdict changes).
DRIVE_ATTRIBUTES_EVERY_HOURS = env.int("DRIVE_ATTRIBUTES_EVERY_HOURS", default=24)
# Drive history is what explains a failure years later: it is kept longer than host metrics.
DRIVE_HISTORY_DAYS = env.int("DRIVE_HISTORY_DAYS", default=730)
# `DELETE /api/containers/{id}/` runs `docker rm` (stopped containers only). Off by default.
CONTAINER_REMOVE_ENABLED = env.bool("CONTAINER_REMOVE_ENABLED", default=False)
# Creating, editing and removing SWAG proxy confs from the API (operator scope; each write is
# backed up, tested with `nginx -t`, rolled back on failure and audited). Off by default.
PROXY_WRITES_ENABLED = env.bool("PROXY_WRITES_ENABLED", default=False)
# Logs read on demand (`GET /api/devices/{id}/logs/`), never stored. `source=file` may only read
# these paths; `*`, `?` and `[...]` match within one path segment, never across a `/`. auth.log
# (and RHEL's /var/log/secure) are left out on purpose: who logged in from where, and sudo
# command lines with their arguments, are more than a read-only token should see.
LOG_FILES_ALLOWED = env.list(
    "LOG_FILES_ALLOWED",
    default=[
        "/var/log/syslog", "/var/log/messages", "/var/log/kern.log", "/var/log/daemon.log",
        "/var/log/libvirt/qemu/*.log",
    ],
)  # fmt: skip
# Bytes of log text one read returns at most (the newest are kept; cut on the device).
LOG_MAX_BYTES = env.int("LOG_MAX_BYTES", default=1024 * 1024)
METRICS_RETENTION_DAYS = env.int("METRICS_RETENTION_DAYS", default=30)
# History tiers (days kept). Raw samples: METRICS_RAW_RETENTION_DAYS when set, else the older
# METRICS_RETENTION_DAYS; raw rows are only pruned once rolled up into both tiers.
METRICS_RAW_RETENTION_DAYS: int | None = env.int("METRICS_RAW_RETENTION_DAYS", default=None)
METRICS_5M_RETENTION_DAYS = env.int("METRICS_5M_RETENTION_DAYS", default=90)
METRICS_1H_RETENTION_DAYS = env.int("METRICS_1H_RETENTION_DAYS", default=1825)
# Per family, any of the tiers: HISTORY_RETENTION_FILESYSTEMS=raw:14,5m:90,1h:1825 (families:
# devices/history/retention_env.py). Unset tiers keep the defaults above (drives' raw tier:
# DRIVE_HISTORY_DAYS); a bad value stops startup with ImproperlyConfigured.
HISTORY_RETENTION: dict[str, dict[str, int]] = parse_overrides(os.environ)
IGNORED_FILESYSTEM_TYPES = env.list(
    "IGNORED_FILESYSTEM_TYPES",
    default=[
        "tmpfs", "devtmpfs", "squashfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2",
        "devpts", "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "autofs",
        "efivarfs", "fusectl", "configfs", "hugetlbfs", "ramfs", "nsfs", "binfmt_misc",
    ],
)  # fmt: skip

# --- Alerts and notifications ---
# The address people reach this platform at: links in notifications point there (device pages).
PUBLIC_URL = env.str("PUBLIC_URL", default=f"http://localhost:{WEB_PORT}")
# Seconds one notification request (webhook, ntfy) may take.
NOTIFY_TIMEOUT_SECONDS = env.float("NOTIFY_TIMEOUT_SECONDS", default=10.0)
# A failed notification is retried this many times, first after NOTIFY_RETRY_BACKOFF_SECONDS,
# then doubling (at most 64 times that). Every attempt is recorded.
NOTIFY_MAX_RETRIES = env.int("NOTIFY_MAX_RETRIES", default=5)
NOTIFY_RETRY_BACKOFF_SECONDS = env.int("NOTIFY_RETRY_BACKOFF_SECONDS", default=30)
# Email channels go through Django's email backend: SMTP with these settings (the console
# backend prints messages instead, for trying things out).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# The sender of alert emails (Django's DEFAULT_FROM_EMAIL when empty).
ALERTS_EMAIL_FROM = env.str("ALERTS_EMAIL_FROM", default="")
# "Full in N days" rules fit a straight line through this many hours of filesystem samples.
ALERTS_FS_TREND_HOURS = env.int("ALERTS_FS_TREND_HOURS", default=24)

# --- Logging ---
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text")  # text | json
LOG_DIR = env.str("LOG_DIR", default="")
LOG_FILE_MAX_BYTES = env.int("LOG_FILE_MAX_BYTES", default=10 * 1024 * 1024)
LOG_FILE_BACKUPS = env.int("LOG_FILE_BACKUPS", default=5)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "infrastructor.logs.CorrelationIdFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s",
        },
        "json": {"()": "infrastructor.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["correlation"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "paramiko": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}
if LOG_DIR:
    # One rotated file per process name (web, worker, beat), so `./infra logs worker` is simple.
    Path(LOG_DIR).mkdir(parents=True, exist_ok=True)
    LOGGING["handlers"]["file"] = {  # type: ignore[index]
        "class": "logging.handlers.RotatingFileHandler",
        "filename": str(Path(LOG_DIR) / f"{env.str('INFRA_PROCESS', default='app')}.log"),
        "maxBytes": LOG_FILE_MAX_BYTES,
        "backupCount": LOG_FILE_BACKUPS,
        "formatter": LOG_FORMAT,
        "filters": ["correlation"],
    }
    LOGGING["root"]["handlers"] = ["console", "file"]  # type: ignore[index]
