"""A real S3 implementation on this machine: moto's server mode, for the S3 media tests.

Why real: uploads through django-storages (boto3's ``PutObject``), presigned GET URLs and the bucket's
answers are S3's wire protocol as moto implements it, not our reading of the documentation.

moto's server (``moto.moto_server``, the app of ``moto.server.ThreadedMotoServer``) stores and serves the
objects but does not check a presigned URL's query-string signature nor its expiry (its IAM check reads only
the ``Authorization`` header; moto 5.2, ``moto/iam/access_control.py``). Those two checks are S3's published
contract, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html, and the part the
media URLs depend on, so :class:`S3TestServer` puts them in front of moto's WSGI app: a request carrying
``X-Amz-Signature`` is recomputed (SigV4: canonical request, string to sign, HMAC-SHA256 key chain) with the
one access key this server knows, and refused with S3's 403 answers (``SignatureDoesNotMatch``,
``AccessDenied`` "Request has expired", ``InvalidAccessKeyId``) when it does not match or is too old.
Requests signed in the ``Authorization`` header (boto3's own calls) go to moto as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, quote

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

__all__ = ["S3TestServer"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _error(start_response: Callable[..., Any], code: str, message: str) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class PresignedQueryAuth:
    """WSGI middleware: S3's checks of a presigned (query-string) SigV4 request, before moto answers."""

    def __init__(self, app: WSGIApp, *, access_key: str, secret_key: str) -> None:
        self.app = app
        self.access_key = access_key
        self.secret_key = secret_key
        self.refused: list[str] = []  # S3 error codes answered, for the tests

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = str(environ.get("QUERY_STRING") or "")
        params = parse_qsl(query, keep_blank_values=True)
        values = dict(params)
        if "X-Amz-Signature" not in values:
            return self.app(environ, start_response)
        refusal = self._refusal(environ, params, values)
        if refusal:
            self.refused.append(refusal[0])
            return _error(start_response, *refusal)
        return self.app(environ, start_response)

    def _refusal(
        self, environ: dict[str, Any], params: list[tuple[str, str]], values: dict[str, str]
    ) -> tuple[str, str] | None:
        credential = values.get("X-Amz-Credential", "").split("/")
        if len(credential) != 5 or credential[4] != "aws4_request":
            return ("AuthorizationQueryParametersError", "X-Amz-Credential is malformed.")
        access_key, day, region, service, _ = credential
        if access_key != self.access_key:
            return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        amz_date = values.get("X-Amz-Date", "")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires = int(values.get("X-Amz-Expires", ""))
        except ValueError:
            return ("AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed.")
        if time.time() > signed_at.timestamp() + expires:
            return ("AccessDenied", "Request has expired")
        # Canonical request (the document's "Presigned URL" section): the path as sent, the query without
        # the signature sorted and URI-encoded, the signed headers, and UNSIGNED-PAYLOAD.
        raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO") or "/")
        path = raw_uri.split("?", 1)[0]
        canonical_query = "&".join(
            f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}"
            for key, value in sorted(params)
            if key != "X-Amz-Signature"
        )
        signed_headers = values.get("X-Amz-SignedHeaders", "host").split(";")
        header_lines = "".join(f"{name}:{self._header(environ, name)}\n" for name in signed_headers)
        canonical = "\n".join(
            [
                str(environ.get("REQUEST_METHOD") or "GET"),
                path,
                canonical_query,
                header_lines,
                ";".join(signed_headers),
                "UNSIGNED-PAYLOAD",
            ]
        )
        scope = f"{day}/{region}/{service}/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = _hmac(
            _hmac(_hmac(_hmac(f"AWS4{self.secret_key}".encode(), day), region), service), "aws4_request"
        )
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, values["X-Amz-Signature"]):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return None

    @staticmethod
    def _header(environ: dict[str, Any], name: str) -> str:
        if name == "host":
            return str(environ.get("HTTP_HOST") or "").strip()
        return str(environ.get("HTTP_" + name.upper().replace("-", "_")) or "").strip()


class S3TestServer:
    """moto's S3 on ``127.0.0.1`` and a free port, with one bucket and one access key. Use as a context
    manager (or ``start()``/``stop()``)."""

    access_key = "RESONANZTESTKEY00001"
    secret_key = "resonanz-test-secret"
    region = "eu-central-1"

    def __init__(self, *, bucket: str = "") -> None:
        # moto keeps its buckets per process, not per server: a fresh name per server.
        self.bucket = bucket or f"resonanz-media-{secrets.token_hex(4)}"
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.auth = PresignedQueryAuth(
            DomainDispatcherApplication(create_backend_app),
            access_key=self.access_key,
            secret_key=self.secret_key,
        )

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def client(self) -> Any:
        """A boto3 S3 client on this server (to look into the bucket)."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def settings(self) -> dict[str, Any]:
        """The ``RESONANZ_S3_*`` values and ``STORAGES`` entry that point Resonanz at this server."""
        return {
            "RESONANZ_S3_BUCKET": self.bucket,
            "RESONANZ_S3_ENDPOINT_URL": self.url,
            "RESONANZ_S3_REGION": self.region,
            "RESONANZ_S3_ACCESS_KEY_ID": self.access_key,
            "RESONANZ_S3_SECRET_ACCESS_KEY": self.secret_key,
            "default_storage": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": self.bucket,
                    "endpoint_url": self.url,
                    "region_name": self.region,
                    "access_key": self.access_key,
                    "secret_key": self.secret_key,
                    "addressing_style": "path",
                    "signature_version": "s3v4",
                    "querystring_auth": True,
                    "default_acl": None,
                    "file_overwrite": False,
                },
            },
        }

    def start(self) -> Self:
        self._server = make_server(
            "127.0.0.1", 0, self.auth, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="s3-test-server")
        self._thread.start()
        self.client().create_bucket(
            Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
        )
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
