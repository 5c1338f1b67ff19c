"""The one-request REST API beside the chat page: ``/api/ask``, ``/api/documents``, ``/api/health``.

``ui.py`` mounts :func:`build_api` at ``/api`` on the same server (and port) as the Gradio page.
One ``POST /api/ask`` returns the JSON object of ``rag ask --json`` (``Answer.to_dict()``), where
Gradio's own route needs two requests (post the call, then read its event stream). The OpenAPI
description is at ``/api/openapi.json``, browsable at ``/api/docs`` (a page of our own,
:mod:`rag.app.api_docs`, that loads nothing from the internet).

Rules shared with the page: the questions and the history are cleaned and cut by
:mod:`rag.query.clean` (inside ``Pipeline.ask``); with a login (``--auth``/``RAG_AUTH``) every
route wants it as HTTP basic auth; errors are JSON ``{"error": "..."}`` with a 4xx status.

Example::

    curl -s http://127.0.0.1:7860/api/ask -H 'Content-Type: application/json' -d \\
      '{"question": "Und wann war das?", "history": ["Wo eröffnete Open AI sein erstes Auslandsbüro?"]}'
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from rag import __version__
from rag.app.access import LoginRequired, login_check
from rag.index.encoders import QuestionBatcher
from rag.query.clean import MAX_HISTORY, QuestionError

# A question is cut to 2,000 characters and the history to its last 10 items anyway; a body this
# large is refused before it is parsed.
MAX_BODY_BYTES = 4 * 2**20


class AskRequest(BaseModel):
    """What ``POST /api/ask`` takes (documentation; the body is checked by :func:`ask`)."""

    question: str = Field(description="The question, in German or English (cut to the length limit).")
    history: list[str] = Field(
        default_factory=list,
        description=f"The user's earlier questions in this conversation, oldest first (last "
        f"{MAX_HISTORY} used); a follow-up such as 'Und wann war das?' is resolved against them.",
    )
    documents: list[str] | None = Field(
        default=None,
        description="Search only these documents (ids as `GET /api/documents` lists them, file "
        "names or titles); all when left out. A refusal then says that the chosen documents do "
        "not hold the answer; an unknown name is a 400 error.",
    )


class CitationOut(BaseModel):
    """One quoted sentence of an answer (``Citation.to_dict()``)."""

    marker: int = Field(description="The n of the [n] in the answer text")
    text: str = Field(description="The sentence as it stands in the document")
    doc_id: str
    doc_title: str
    heading: str = Field(description="The section heading the sentence stands under ('' for none)")
    paragraph: int
    sentence: int
    start: int = Field(description="Character offset of the sentence in the source file")
    end: int
    score: float
    page: int | None = Field(default=None, description="1-based page, for a PDF only")


class HitOut(BaseModel):
    """One retrieved passage (``Hit.to_dict()``)."""

    rank: int
    chunk_id: int
    doc_id: str
    paragraph: int
    heading: str
    text: str
    start: int
    end: int
    score: float
    dense_score: float
    lexical_score: float


class RefusalOut(BaseModel):
    score: float = Field(description="The refusal model's log-odds that the text does not answer")
    threshold: float = Field(description="Above it the answer is 'the text does not say'")


class AnswerOut(BaseModel):
    """What ``POST /api/ask`` (and Gradio's ``/ask``, ``rag ask --json``) return: ``Answer.to_dict()``."""

    question: str
    answer: str = Field(description="The answer text: a lead and the quoted sentences with [n] markers")
    language: str = Field(description="The question's language (ISO 639-1)")
    confidence: Literal["high", "low", "none"] = Field(
        description="How well the text supports the answer: 'high' (the cited sentence answers), "
        "'low' (the closest passage, which may not answer), 'none' (the text does not say)"
    )
    abstained: bool = Field(description="True exactly when confidence is 'none'")
    citations: list[CitationOut]
    hits: list[HitOut]
    timings_ms: dict[str, float]
    notice: str | None = Field(default=None, description="e.g. that an overlong question was shortened")
    refusal: RefusalOut | None = None
    retrieval_query: str | None = Field(
        default=None, description="The text searched, when it differs from the question (follow-ups)"
    )


class PipelineWorker:
    """One thread that answers the API's questions, in turns: it takes every request waiting and
    hands them to ``Pipeline.ask_many`` (their questions encoded in one batch, then answered one
    by one, each under the lock the page holds too). 20 request threads queueing on the lock
    instead cost more in thread switches than the answers themselves on 2 cores."""

    def __init__(self, pipeline: Any, lock: threading.Lock, max_batch: int = 32) -> None:
        import queue

        self.pipeline = pipeline
        self.lock = lock
        self.max_batch = max_batch
        self.batcher = pipeline.encoder if isinstance(pipeline.encoder, QuestionBatcher) else None
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="rag-api-worker", daemon=True)
        self._thread.start()

    async def ask(
        self, question: object, history: object, documents: list[str] | None = None
    ) -> dict[str, Any]:
        """The answer's dict; raises :class:`ApiError` (400) for a question that cannot be asked
        (or an unknown document in ``documents``, the names searched; None: all)."""
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._queue.put((question, history, loop, future, documents))
        return await future

    def _run(self) -> None:
        import queue

        from rag.pipeline import Request as Question

        while True:
            items = [self._queue.get()]
            while len(items) < self.max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            # Every waiting question through Pipeline.ask_many: prepared as ask prepares them,
            # the texts they search encoded in one batch, then answered one by one (the lock,
            # the page's too, is held around each and released in between).
            questions = [Question(q, h, d) for q, h, _, _, d in items]
            answers = self.pipeline.ask_many(questions, self.lock)
            for (_, _, loop, future, _), answer in zip(items, answers, strict=True):
                result: Any
                if isinstance(answer, QuestionError):
                    result, ok = ApiError(400, str(answer)), False
                elif isinstance(answer, Exception):  # reported to the request, not lost
                    result, ok = answer, False
                else:
                    result, ok = answer.to_dict(), True
                loop.call_soon_threadsafe(_settle, future, result, ok)


def _settle(future: Any, result: Any, ok: bool) -> None:
    if future.done():  # the client went away
        return
    if ok:
        future.set_result(result)
    else:
        future.set_exception(result)


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class _Json(Response):
    """JSON with non-ASCII text as is (what ``rag ask --json`` prints, without the indent)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def document_summaries(pipeline: Any) -> list[dict[str, Any]]:
    """Each indexed document with the fields of `rag list --json` (``DocumentRow``): id, title,
    language, format, size, sentences, paragraphs, pages, characters, path."""
    from rag.app.documents import indexed_rows

    index = pipeline.index
    return [row.to_dict() for row in indexed_rows(index.documents, index.sentences)]


def build_api(
    pipeline: Any, lock: threading.Lock | None = None, auth: tuple[str, str] | None = None
) -> FastAPI:
    """The API app over an opened pipeline; ``lock`` is the one the page holds around ``ask``.

    When the pipeline's encoder is a :class:`QuestionBatcher`, concurrent requests share one
    encoder call (``Pipeline.ask_many``).
    """
    worker = PipelineWorker(pipeline, lock or threading.Lock())
    api = FastAPI(
        title="rag — answers you can check",
        summary="Answers made only of the documents' own sentences, each with a citation.",
        version=__version__,
        docs_url=None,  # FastAPI's Swagger page loads from a CDN: blank offline; see /docs below
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(login_check(auth))],
    )
    _add_error_handlers(api)
    _add_ask_route(api, worker)
    _add_page_route(api, pipeline)
    _add_info_routes(api, pipeline, worker.batcher)
    return api


def _add_error_handlers(api: FastAPI) -> None:
    """Every error as JSON ``{"error": "..."}`` with its status (400 for a malformed request)."""

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @api.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> JSONResponse:
        return _error(401, str(exc), exc.headers)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
                             for e in exc.errors())
        return _error(400, problems or "invalid request")


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request body, refused (413) beyond MAX_BODY_BYTES before it is parsed."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request body is larger than {MAX_BODY_BYTES:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"the request body is larger than {MAX_BODY_BYTES:,} bytes")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, 'the body must be JSON: {"question": "...", "history": [...]}') from None
    if not isinstance(body, dict):
        raise ApiError(400, 'the body must be a JSON object: {"question": "...", "history": [...]}')
    return body


def _add_ask_route(api: FastAPI, worker: PipelineWorker) -> None:
    """``POST /ask``: the body checked here, the question answered by ``worker``."""

    @api.post(
        "/ask",
        summary="Answer one question with cited sentences",
        description="Returns the JSON object of `rag ask --json`: the answer text, its citations "
        "(document, heading, paragraph, sentence, character offsets), the retrieved passages "
        "(`hits`), `confidence` (high, low or none), `abstained` and timings. An empty question is a "
        "400 error.",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": AskRequest.model_json_schema()}},
            }
        },
        responses={
            200: {"description": "The answer (`Answer.to_dict()`)", "model": AnswerOut},
            400: {"description": 'Not askable (e.g. empty) or not JSON: `{"error": "..."}`'},
            401: {"description": "A login is configured and was not given"},
            413: {"description": "Body too large"},
        },
    )
    async def ask(request: Request) -> Response:
        body = await read_body(request)
        if "question" not in body:
            raise ApiError(400, 'the body needs a "question"')
        history = body.get("history", [])
        if history is not None and not isinstance(history, list):
            raise ApiError(400, '"history" must be a list of earlier questions')
        documents = body.get("documents")
        if documents is not None and not (
            isinstance(documents, list) and all(isinstance(d, str) for d in documents)
        ):
            raise ApiError(400, '"documents" must be a list of document names (ids, file names or titles)')
        return _Json(await worker.ask(body["question"], history, documents))


def _add_page_route(api: FastAPI, pipeline: Any) -> None:
    """``GET /page``: a page of a PDF or a page image as PNG, a cited sentence marked."""

    @api.get(
        "/page",
        summary="A page of a PDF (text or scanned) or a page image, as PNG, a sentence highlighted",
        description="`document` is a document id (as `/api/documents` lists it); `page` counts from 1 "
        "(a citation's `page`). With `start` and `end` (a citation's character offsets) or "
        "`sentence` (a citation's `sentence_id`), that sentence's boxes are highlighted; `page` "
        "may then be left out. `width` in pixels "
        "(default 1000). The highlighted boxes, as fractions of the page (left, top, right, "
        "bottom), are in the `X-Highlight` header as JSON.",
        response_class=Response,
        responses={
            200: {"content": {"image/png": {}}, "description": "The page as PNG"},
            400: {"description": 'Bad parameters or a document without pages: `{"error": "..."}`'},
            404: {"description": "No such document, page or sentence"},
            409: {"description": "The file changed since the index was built"},
        },
    )
    def page_image(document: str, page: int | None = None, sentence: int | None = None,
                   start: int | None = None, end: int | None = None, width: int = 1000) -> Response:
        from rag.app.page_view import PageError, render_page

        doc = next((d for d in pipeline.index.documents if d.doc_id == document), None)
        if doc is None:
            raise ApiError(404, f"no document {document!r} (see /api/documents)")
        if sentence is not None:
            sentences = pipeline.index.sentences
            if not 0 <= sentence < len(sentences) or sentences[sentence].doc_id != document:
                raise ApiError(404, f"no sentence {sentence} in {document!r}")
            start, end = sentences[sentence].start, sentences[sentence].end
            page = page or sentences[sentence].page or 1
        if (start is None) != (end is None):
            raise ApiError(400, "give both start and end (a citation's character offsets), or neither")
        if start is not None and end is not None:
            if not 0 <= start < end <= len(doc.text):
                raise ApiError(400, f"start and end must satisfy 0 <= start < end <= {len(doc.text)}")
            if page is None:
                from rag.ingest.sentences import page_of

                page = page_of(doc, start) or 1
        try:
            rendered = render_page(doc, page or 1, start, end, width)
        except PageError as exc:
            raise ApiError(exc.status, str(exc)) from None
        boxes = [[round(v, 4) for v in box] for box in rendered.boxes]
        return Response(rendered.png, media_type="image/png",
                        headers={"X-Highlight": json.dumps(boxes), "Cache-Control": "no-store"})


def _add_info_routes(api: FastAPI, pipeline: Any, batcher: QuestionBatcher | None) -> None:
    """``GET /documents``, ``/health`` and the offline description ``/docs``."""
    summaries: list[Any] = [None, []]  # (index, its summaries): documents added in the chat show

    @api.get("/documents", summary="The indexed documents")
    def list_documents() -> Response:
        index = pipeline.index
        if summaries[0] is not index:
            summaries[:] = [index, document_summaries(pipeline)]
        return _Json({"documents": summaries[1]})

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        from rag.app.api_docs import api_docs_html

        return HTMLResponse(api_docs_html(api.openapi(), str(request.scope.get("root_path", ""))))

    @api.get("/health", summary="Whether the server is up, and what it serves")
    def health() -> Response:
        info = pipeline.info
        return _Json({
            "status": "ok",
            "model": info.get("model"),
            "index": info.get("index"),
            "index_type": info.get("index_type"),
            "built_at": info.get("built_at"),
            "counts": info.get("counts"),
            "retriever": info.get("retriever"),
            "batched": {"batches": batcher.batches, "questions": batcher.primed_texts} if batcher else None,
        })
