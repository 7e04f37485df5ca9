-- The second database of the topology: Rasa's tracker store (the first, "gateway", is POSTGRES_DB).
CREATE DATABASE tracker OWNER rczd;
