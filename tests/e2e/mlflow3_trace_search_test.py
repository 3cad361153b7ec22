#!/usr/bin/env python3
"""MLflow 3's trace search grammar, Plinth against MLflow's own server: the real 3.10.1 client
(../shared/mlflow3) logs the same traces (spans with types, attributes and an error; feedback,
an override, expectations) to `plinth server` and to `python -m mlflow server` (3.10.1, SQLite),
then runs the same search_traces filters on both (span.*, RLIKE, trace.text, feedback.*,
expectation.*, end_time, prompt, IN) and compares what each finds, or that both refuse.
Plinth runs on SQLite, or on PostgreSQL when PLINTH_TEST_POSTGRES_URI is set
(tests/scripts/with_postgres.sh); PLINTH_TEST_VERBOSE=1 prints both servers' answers.

The answers must be equal, except for the deliberate differences listed in DIFFERENT, each
with Plinth's answer and why it is better; a difference not listed fails, and so does a listed
one that went away (the list stays true).

usage: mlflow3_trace_search_test.py PLINTH_BINARY SHARED_DIR
(the client half runs as: mlflow3_trace_search_test.py --client TRACKING_URL)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

FILTERS = [
    "span.name = 'search_web'",
    # Every span clause holds for one same span (B's search_web failed, A's did not).
    "span.name = 'search_web' AND span.status = 'OK'",
    "span.status = 'ERROR'",
    "span.type IN ('AGENT', 'LLM')",
    "span.type NOT IN ('AGENT')",
    "span.name RLIKE '^search'",
    "span.name RLIKE 'web$' AND span.type = 'AGENT'",
    "span.name ILIKE 'AGE%'",
    "span.name LIKE 'age%'",
    "span.attributes.model LIKE '%gpt-y%'",
    "span.attributes.model RLIKE '^gpt-.$'",
    "span.attributes.model RLIKE '^gpt-x$'",
    "span.attributes.model RLIKE 'gpt'",
    "span.attributes.model = 'gpt-x'",
    "span.attributes.tokens = '42'",
    "span.attributes.name = 'search_web'",
    "span.attributes.model != 'gpt-x'",
    "span.attributes.model RLIKE 'nomatch|search'",
    "span.attributes.model RLIKE '(?i)^GPT-X$'",
    "trace.text LIKE '%What is%'",
    "trace.text LIKE '%café%'",
    "span.content LIKE '%search_web%'",
    "span.content ILIKE '%SEARCH_WEB%'",
    "end_time > 0",
    "end_time_ms < 0",
    "trace.status = 'ERROR'",
    "status IN ('OK')",
    "status RLIKE '^ERR'",
    "tags.team RLIKE '^ml'",
    "metadata.`mlflow.trace_schema.version` = '3'",
    "feedback.correct = 'yes'",
    "feedback.correct = 'no'",
    "feedback.correct != 'yes'",
    "feedback.correct LIKE '%ye%'",
    "feedback.score = '5'",
    "feedback.score = '5.0'",
    "feedback.score IS NULL",
    "feedback.correct RLIKE 'y.s' AND span.type = 'AGENT'",
    "expectation.answer LIKE '%42%'",
    "expectation.correct = 'yes'",
    "prompt = 'qa/1'",
    "prompt = 'qa/2'",
    "client_request_id = 'nope'",
    # Refused by both.
    "span.content = 'x'",
    "span.kind = 'x'",
    "feedback.x IN ('a')",
    "span.name IS NULL",
    "prompt LIKE 'qa%'",
    "span.name RLIKE 'a' OR span.name = 'b'",
]

# Filter -> (Plinth's answer, why it differs from MLflow's).
DIFFERENT = {
    "span.attributes.model = 'gpt-x'":
        (["A"], "MLflow compares the whole span JSON with the value, which matches nothing; "
                "Plinth compares the attribute's value"),
    "span.attributes.tokens = '42'":
        (["A"], "as above, a number's attribute compared by its JSON text"),
    "span.attributes.model != 'gpt-x'":
        (["B"], "MLflow compares the whole span JSON, which differs from any value, so every "
                "trace matches; Plinth: a span with the attribute and another value"),
    "span.attributes.model RLIKE 'nomatch|search'":
        ([], "MLflow splices the pattern after its attribute prefix, so an alternation "
             "matches anywhere in the span (here its name); Plinth groups it"),
    "span.attributes.model RLIKE '(?i)^GPT-X$'":
        (["A"], "MLflow's rewrite leaves leading flags mid-pattern, where regular expressions "
                "refuse them, and matches nothing; Plinth keeps them in front"),
    "trace.text LIKE '%café%'":
        (["A"], "MLflow stores span JSON with non-ASCII escaped (\\u00e9), so no non-ASCII "
                "text is ever found; Plinth stores UTF-8"),
    "feedback.correct = 'no'":
        ([], "MLflow also matches an overridden (invalid) assessment; Plinth searches the "
             "valid ones, what the trace's feedback is now"),
    "feedback.correct != 'yes'":
        ([], "as above: B's 'no' was overridden by 'yes'"),
    "feedback.score IS NULL":
        (["A"], "MLflow's parser refuses IS NULL after feedback.<name> (its store code "
                "supports it); Plinth answers it"),
}


def client(url):
    """Logs the traces to the server at `url`, runs FILTERS and prints {filter: answer}."""
    import mlflow
    from mlflow.entities import AssessmentSource

    mlflow.set_tracking_uri(url)
    exp = mlflow.set_experiment("trace-search").experiment_id
    mlflow.genai.register_prompt(name="qa", template="Q: {{q}}")

    @mlflow.trace(span_type="AGENT")
    def agent(q):
        mlflow.update_current_trace(tags={"team": "ml-ops"})
        with mlflow.start_span("search_web", span_type="RETRIEVER") as s:
            s.set_attribute("model", "gpt-x")
            s.set_attribute("tokens", 42)
        return mlflow.genai.load_prompt("prompts:/qa/1").format(q=q)

    @mlflow.trace(name="search_web", span_type="RETRIEVER")
    def failing(q):
        mlflow.get_current_active_span().set_attribute("model", "gpt-y")
        raise ValueError("boom")

    agent("What is café?")
    a = mlflow.get_last_active_trace_id()
    try:
        failing("x")
    except ValueError:
        pass
    b = mlflow.get_last_active_trace_id()
    human = AssessmentSource(source_type="HUMAN", source_id="ann")
    mlflow.log_feedback(trace_id=a, name="correct", value="yes", source=human)
    no = mlflow.log_feedback(trace_id=b, name="correct", value="no", source=human)
    mlflow.override_feedback(trace_id=b, assessment_id=no.assessment_id, value="yes",
                             source=human)
    mlflow.log_feedback(trace_id=b, name="score", value=5, source=human)
    mlflow.log_expectation(trace_id=a, name="answer", value="42 is it", source=human)
    names = {a: "A", b: "B"}

    def search(f):
        found = mlflow.search_traces(experiment_ids=[exp], filter_string=f, return_type="list")
        return sorted(names.get(t.info.trace_id, "?") for t in found)

    for _ in range(100):  # the client links prompts from a thread of its own
        if search("prompt = 'qa/1'"):
            break
        time.sleep(0.05)
    out = {}
    for f in FILTERS:
        try:
            out[f] = search(f)
        except mlflow.exceptions.MlflowException as e:
            out[f] = "refused" if e.error_code == "INVALID_PARAMETER_VALUE" else e.error_code
    print(json.dumps(out))
    return 0


def answers(cmd, port, env, work):
    from plinth_procs import start_server

    proc = start_server(cmd, port, seconds=120, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True, env=env, cwd=work,
                        start_new_session=True)
    try:
        run = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--client",
                              f"http://127.0.0.1:{port}"], env=env, cwd=work,
                             capture_output=True, text=True, timeout=300)
        if run.returncode != 0 or not run.stdout.strip():
            sys.exit(f"the client failed against {cmd[0:3]}: {run.stderr[-3000:]}")
        return json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        sys.exit(client(sys.argv[2]))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
    from plinth_procs import free_port, mlflow_client_env

    plinth, shared = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        env = mlflow_client_env(shared, "mlflow3", work)
        results = {}
        for kind in ("plinth", "mlflow"):
            folder = os.path.join(work, kind)
            os.makedirs(folder)
            port = free_port()
            store = f"sqlite:///{folder}/db.sqlite"
            if kind == "plinth" and os.environ.get("PLINTH_TEST_POSTGRES_URI"):
                store = os.environ["PLINTH_TEST_POSTGRES_URI"]  # MLflow stays on SQLite
            cmd = ([plinth, "server", "--store", store, "--artifacts-root", f"{folder}/art",
                    "--port", str(port)] if kind == "plinth" else
                   ["/usr/bin/python3", "-m", "mlflow", "server", "--backend-store-uri", store,
                    "--artifacts-destination", f"{folder}/art", "--host", "127.0.0.1",
                    "--port", str(port), "--workers", "1"])
            results[kind] = answers(cmd, port, env, folder)
    if os.environ.get("PLINTH_TEST_VERBOSE"):
        print(json.dumps(results, indent=1, ensure_ascii=False))
    failed = 0
    for f in FILTERS:
        ours, theirs = results["plinth"].get(f), results["mlflow"].get(f)
        expected, why = DIFFERENT.get(f, (theirs, ""))
        if f in DIFFERENT and ours == theirs:
            print(f"FAIL {f!r}: listed as different but both answer {ours}")
            failed += 1
        elif ours != expected:
            print(f"FAIL {f!r}: Plinth {ours}, MLflow {theirs}" + (f" ({why})" if why else ""))
            failed += 1
    listed = sum(1 for f in FILTERS if f in DIFFERENT)
    print(f"mlflow3-trace-search: {len(FILTERS)} filters, {len(FILTERS) - listed} answered as "
          f"MLflow answers, {listed} deliberate differences, {failed} failures")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
