# syntax=docker/dockerfile:1
#
# Production image for labqms: gunicorn web by default; the same image runs the Celery
# worker and beat (see docker-compose.yml).  Settings come from environment variables
# only (labqms/settings.py).

# --- Front-end assets (bootstrap, bootstrap-icons, htmx) from npm -----------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- Application ------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LABQMS_VAR_DIR=/app/var \
    DJANGO_MEDIA_ROOT=/app/var/media \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    GUNICORN_WORKERS=3

# WeasyPrint's system libraries, CJK fonts for certificates and labels, gettext
# (msgfmt) for compilemessages, and pg_dump/pg_restore (15, the compose server's major
# version) for `manage.py backup` / `restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        libjpeg62-turbo \
        libffi8 \
        shared-mime-info \
        fonts-noto-cjk \
        fonts-wqy-zenhei \
        gettext \
        postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# Fixed numeric ids so orchestrators can check runAsNonRoot; a writable home for
# fontconfig's cache (WeasyPrint) and gunicorn's control socket.
RUN groupadd --system --gid 10001 labqms \
    && useradd --system --uid 10001 --gid labqms --create-home --home-dir /home/labqms \
        --shell /usr/sbin/nologin labqms

WORKDIR /app

# Dependencies first so code changes do not invalidate this layer.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY --from=assets /build/node_modules ./node_modules
COPY . .

# Build-time only: a throwaway secret key so settings load with DJANGO_DEBUG=0 (which
# selects whitenoise's manifest storage).  Not set in the image's environment.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret DJANGO_DEBUG=0 \
        python manage.py compilemessages --ignore node_modules \
    && DJANGO_SECRET_KEY=build-only-not-a-secret DJANGO_DEBUG=0 \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R labqms:labqms /app/var

USER 10001:10001

# Database file (embedded mode only), uploads, Celery beat schedule.  A fresh named
# volume copies this directory, so it starts out owned by labqms.
VOLUME ["/app/var"]
EXPOSE 8000

# No HEALTHCHECK here: worker and beat run this image too and serve no HTTP.  The
# web service's health check lives in docker-compose.yml.
CMD ["sh", "-c", "exec gunicorn labqms.wsgi:application --bind 0.0.0.0:8000 --workers \"${GUNICORN_WORKERS:-3}\" --access-logfile - --error-logfile -"]
