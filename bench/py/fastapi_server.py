"""FastAPI peer of the serving benchmark, written the way FastAPI's documentation recommends: the model loaded once in
a lifespan handler (the docs' "Lifespan Events" machine-learning example), Pydantic request and response models, a
bearer token checked by an HTTPBearer dependency, a plain `def` endpoint (blocking work runs in the thread pool), and
uvicorn with uvloop + httptools and one worker per core. Same request and response shape as Relearn's
`POST /models/{name}/predict`.

    BENCH_MODEL=<model.onnx> BENCH_TOKEN=<token> python -m uvicorn fastapi_server:app --app-dir bench/py --workers N
"""

from __future__ import annotations

import os
import secrets
from contextlib import asynccontextmanager

import numpy as np
import onnxruntime as ort
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

MODEL_NAME = "flights-delay"
CLASSES = [0, 1]
NUMERIC = ["distance", "hour", "weekday"]
CATEGORICAL = ["origin", "destination"]

models: dict[str, ort.InferenceSession] = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    options = ort.SessionOptions()
    # One onnxruntime thread per worker process, as Relearn's scoring threads have.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    models[MODEL_NAME] = ort.InferenceSession(os.environ["BENCH_MODEL"], options, providers=["CPUExecutionProvider"])
    yield
    models.clear()


app = FastAPI(lifespan=lifespan)
security = HTTPBearer()


def check_token(credentials: HTTPAuthorizationCredentials = Depends(security)) -> None:
    if not secrets.compare_digest(credentials.credentials.encode(), os.environ["BENCH_TOKEN"].encode()):
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="bad token")


class Row(BaseModel):
    distance: float
    hour: float
    weekday: float
    origin: str
    destination: str


class PredictRequest(BaseModel):
    rows: list[Row]


class PredictResponse(BaseModel):
    model: str
    classes: list[int]
    predictions: list[int]
    probabilities: list[list[float]]


@app.post("/models/{name}/predict", dependencies=[Depends(check_token)])
def predict(name: str, body: PredictRequest) -> PredictResponse:
    session = models.get(name)
    if session is None:
        raise HTTPException(status_code=404, detail=f"no model {name}")
    feeds = {f: np.array([[getattr(r, f)] for r in body.rows], dtype=np.float32) for f in NUMERIC}
    feeds |= {f: np.array([[getattr(r, f)] for r in body.rows], dtype=object) for f in CATEGORICAL}
    (probabilities,) = session.run(["probabilities"], feeds)
    best = probabilities.argmax(axis=1)
    return PredictResponse(
        model=name,
        classes=CLASSES,
        predictions=[CLASSES[i] for i in best],
        probabilities=probabilities.tolist(),
    )
