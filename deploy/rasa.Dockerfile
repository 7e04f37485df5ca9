# Rasa server and action server: one image, the project's full pinned environment (requirements.txt +
# constraints.txt, as `make venv` installs it). The trained model is baked in from models/ (`make train`
# first), so every Rasa node of a release answers with the same model.
#   docker build -f deploy/rasa.Dockerfile -t rczd-rasa .
#   Rasa node:     (default command)            action server:  python -m rasa_sdk --actions actions --port 5055
FROM python:3.10.13-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /app
COPY requirements.txt constraints.txt ./
COPY bot/requirements.txt bot/requirements.txt
RUN pip install --upgrade pip 'setuptools<70' wheel && pip install -r requirements.txt -c constraints.txt
COPY config.yml domain.yml credentials.yml ./
# the whole domain as Rasa loads it: domain/dialogue.yml links to ../domain.yml, domain/profile.yml is
# generated from policies/profile.yml (make domain)
COPY domain/ domain/
COPY actions/ actions/
COPY policies/ policies/
COPY nlu/ nlu/
COPY scripts/__init__.py scripts/rasa_server.py scripts/rasa_latency.py scripts/
COPY scripts/cluster/endpoints.yml scripts/cluster/endpoints.yml
COPY models/assistant.tar.gz models/assistant.tar.gz
RUN useradd --system --uid 10001 rasa && mkdir -p var .rasa && chown rasa var .rasa
USER rasa
ENV HOME=/app
EXPOSE 5005 5055
# Rasa's HTTP API needs RASA_TOKEN (added inside the process by scripts/rasa_server.py, never on the
# command line); the tracker store (PostgreSQL) and lock store (Redis) come from the environment read by
# scripts/cluster/endpoints.yml: ACTION_ENDPOINT_URL, TRACKER_DB_*, REDIS_*.
CMD ["python", "scripts/rasa_server.py", "run", "--model", "models/assistant.tar.gz", "--enable-api", \
     "--interface", "0.0.0.0", "--port", "5005", "--endpoints", "scripts/cluster/endpoints.yml", \
     "--credentials", "credentials.yml"]
