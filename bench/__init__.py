"""Benchmarks: throughput and Redis cost per job, side by side with RQ and arq.

Run ``python -m bench`` (``--help`` for the options). Everything runs on 127.0.0.1:
a fresh redis-server, the local Upstash-compatible REST server and a uvicorn server
for the app are started and stopped here.
"""
