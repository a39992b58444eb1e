"""The OpenAI-compatible backend against a small local server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import DEMO_DATA, load_script
from crossknow.core.model_spec import ModelSpec
from crossknow.core.prompt import Prompt
from crossknow.core.results import validate_result
from crossknow.models.openai_backend import APIError, OpenAIChatBackend


class FakeChatServer:
    """Answers each chat request with a scripted status and reply; records what it received."""

    def __init__(self, script):
        self.script, self.requests = list(script), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
                status, reply = outer.script.pop(0) if outer.script else (200, "A")
                payload = {"choices": [{"message": {"role": "assistant", "content": reply}}]}
                data = json.dumps(payload if status == 200 else {"error": reply}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_request_is_the_papers_and_retries_are_bounded():
    with FakeChatServer([(500, "busy"), (429, "slow down"), (200, "C")]) as server:
        backend = OpenAIChatBackend(ModelSpec.parse("openai/gpt-3.5-turbo-0125"), base_url=server.url, api_key="sk-test",
                                    max_retries=3, backoff_seconds=0.01)
        assert backend.generate([Prompt("header\n\n", "q\nAnswer:")], max_new_tokens=1) == ["C"]
    assert len(server.requests) == 3
    request = server.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"] == {"model": "gpt-3.5-turbo-0125", "max_tokens": 1, "temperature": 0.0,
                               "messages": [{"role": "user", "content": "header\n\nq\nAnswer:"}]}


def test_gives_up_after_the_retries_and_says_why():
    with FakeChatServer([(503, "down")] * 10) as server:
        backend = OpenAIChatBackend(ModelSpec.parse("openai/x"), base_url=server.url, api_key="k", max_retries=2,
                                    backoff_seconds=0.01)
        with pytest.raises(APIError, match=r"failed after 3 attempt\(s\): HTTP 503"):
            backend.complete_one("q")
    assert len(server.requests) == 3


def test_a_client_error_is_not_retried():
    with FakeChatServer([(401, "bad key")]) as server:
        backend = OpenAIChatBackend(ModelSpec.parse("openai/x"), base_url=server.url, api_key="k", backoff_seconds=0.01)
        with pytest.raises(APIError, match="HTTP 401"):
            backend.complete_one("q")
    assert len(server.requests) == 1


def test_missing_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(APIError, match="set OPENAI_API_KEY"):
        OpenAIChatBackend(ModelSpec.parse("openai/x"))


def test_eval_with_an_openai_model_never_writes_the_key(tmp_path, monkeypatch):
    mmlu_eval = load_script("MMLU/eval.py")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    with FakeChatServer([(200, "B")] * 3 + [(200, "Answer: D")] * 3) as server:
        results = mmlu_eval.main(["--model", "openai/gpt-3.5-turbo-0125", "--api_base", server.url,
                                  "--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path),
                                  "--subjects", "management", "--limit", "6", "--configs", "en",
                                  "--infer_mode", "generation", "--max_token", "1"])
    result = results["en"]
    validate_result(result)
    assert result["n"] == 6 and result["unparsed"] == 0
    assert result["config"]["backend"]["backend"] == "openai" and result["config"]["max_new_tokens"] == 1
    assert result["config"]["model"]["kind"] == "openai" and result["config"]["model"]["tag"] == "gpt-3.5-turbo-0125"
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "sk-secret-123" not in written
    assert all(r["body"]["max_tokens"] == 1 for r in server.requests)


def test_an_api_model_in_logits_mode_is_refused_before_any_request(monkeypatch, capsys):
    mmlu_eval = load_script("MMLU/eval.py")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with pytest.raises(SystemExit):
        mmlu_eval.main(["--model", "openai/gpt-4-0613", "--api_base", "http://127.0.0.1:9", "--configs", "en"])
    assert ("--model openai/gpt-4-0613 --infer_mode logits: the openai backend cannot give letter scores; "
            "it offers: generation (the paper ran GPT models with --infer_mode generation --max_token 1)"
            in capsys.readouterr().err)


def test_stop_strings_cut_the_returned_text():
    stops = [f"\n\nStop{i}" for i in range(6)]  # more than the four the API takes
    with FakeChatServer([(200, "Answer: B\n\nStop4 Answer: D")]) as server:
        backend = OpenAIChatBackend(ModelSpec.parse("openai/x"), base_url=server.url, api_key="k")
        assert backend.generate([Prompt("", "q")], max_new_tokens=7, stop=stops) == ["Answer: B"]
    assert "stop" not in server.requests[0]["body"] and server.requests[0]["body"]["max_tokens"] == 7


def test_api_replies_are_recorded_raw_and_those_that_needed_reading_are_counted(tmp_path, monkeypatch):
    """The paper compared GPT's raw one-token reply with the label; crossknow reads ' A' or '(A' as
    A. Each record keeps the reply as it came ("generated"); the result counts the replies that
    were read as a label without being exactly one (not_bare_label) and those not read (unparsed)."""
    mmlu_eval = load_script("MMLU/eval.py")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    replies = ["B", " A", "(C", "Answer: D", "x", "D"]
    with FakeChatServer([(200, reply) for reply in replies]) as server:
        result = mmlu_eval.main(["--model", "openai/gpt-3.5-turbo-0125", "--api_base", server.url,
                                 "--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path),
                                 "--subjects", "management", "--limit", "6", "--configs", "en",
                                 "--infer_mode", "generation", "--max_token", "1"])["en"]
    validate_result(result)
    records = [json.loads(line) for line in (tmp_path / "gpt-3.5-turbo-0125_0shot" / "en" / "management.jsonl")
               .read_text().splitlines()]
    assert [r["generated"] for r in records] == replies
    assert [r["prediction"] for r in records] == ["B", "A", "C", "D", None, "D"]
    assert result["unparsed"] == 1 and result["not_bare_label"] == 3
