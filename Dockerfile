# syntax=docker/dockerfile:1
# Custos production image: gunicorn by default; the same image runs the Celery
# worker and beat (see docker-compose.yml and docs/deployment.md).
FROM python:3.11-slim-bookworm

# The code runs from /app (PYTHONPATH), not from site-packages: settings find
# templates/, static/ and locale/ beside the lawfirm package, and those are not
# part of the installed distribution.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    CUSTOS_ENV=production \
    DOCUMENT_ROOT=/app/var/documents \
    TRAINING_ROOT=/app/var/training \
    WEB_CONCURRENCY=3

RUN groupadd --system --gid 10001 custos \
    && useradd --system --uid 10001 --gid custos --home-dir /app --no-create-home --shell /usr/sbin/nologin custos

WORKDIR /app

# Runtime dependencies from pyproject.toml (no dev group). Only the metadata is
# copied first, so a code change reuses this layer: the distribution built here
# holds no modules, and the code comes from /app below.
COPY pyproject.toml README.md ./
RUN pip install .

# Code, templates, static files and compiled translations (.mo files are in
# git, so no gettext here). Owned by root: the app user cannot change its code.
COPY . .

# Static files are collected into the image (WhiteNoise serves them, with a
# manifest, in production). collectstatic needs no secret key and no database.
RUN python manage.py collectstatic --noinput \
    && python -m compileall -q lawfirm access matters jobs audit vault training \
    && mkdir -p var/documents var/training var/media var/beat \
    && chown custos:custos var/documents var/training var/media var/beat \
    && chmod 0700 var/documents var/training

# Client documents live in a volume (plain files until the encryption work lands), never in the
# container's layer. Mount the same volume in every web and worker container.
VOLUME ["/app/var/documents", "/app/var/training"]

USER 10001:10001
EXPOSE 8000

# Access log: path only, never the query string, which can carry search terms
# such as client names. WEB_CONCURRENCY sets gunicorn's worker count.
CMD ["gunicorn", "lawfirm.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(L)ss"]
