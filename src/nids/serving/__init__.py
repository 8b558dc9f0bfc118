"""The scoring service: the champion behind an HTTP API, following its registry alias.

`python -m nids.serving` (started by `make serve`) runs `app.create_app` with uvicorn.
Modules: `settings` (typed settings), `inputs` (request bodies to flows), `model` (the served
version and its hot swap), `explain` (feature contributions), `scoring` (classes and the JSON
answer), `batch_writer` (scored flows to Parquet batches for monitoring), `metrics`
(Prometheus), `service` (the routes' work without HTTP), `app` (FastAPI).
"""
