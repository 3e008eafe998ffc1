"""A scripted team for the shipped `api-integration` workflow: what it plans and writes depends on the
ask, so each business use case gets its own module and test, built on the operation of the API
document that fits it best.

It reads the prompts of the default blueprint and of the workflow as shipped: the use cases after
"# Business use cases" (the split), "Use case: …" in a run's ask, the OpenAPI document as the
planner's context document (paths, methods, `summary` and `operationId` on their own lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import Rules, offers_tool

_CASE = re.compile(r"^Use case: (.+)$", re.MULTILINE)
_OPERATION = re.compile(r"^Operation: (\S+) (\S+) \((\w+)\)$", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str = ""


def slug(case: str) -> str:
    """The module name of a use case: `Look up a pet by its id` → `look_up_a_pet_by_its_id`."""
    return re.sub(r"[^a-z0-9]+", "_", case.lower()).strip("_")


def operations(document: str) -> list[Operation]:
    """The operations of an OpenAPI document in YAML, read line by line (no YAML parser needed)."""
    found: list[Operation] = []
    path = method = summary = ""
    for line in document.splitlines():
        if match := re.match(r"^  (/\S*):\s*$", line):
            path = match.group(1)
        elif match := re.match(r"^    (get|put|post|delete|patch):\s*$", line):
            method, summary = match.group(1).upper(), ""
        elif match := re.match(r"^\s+summary:\s*(.+)$", line):
            summary = match.group(1).strip()
        elif (match := re.match(r"^\s+operationId:\s*(\w+)", line)) and path and method:
            found.append(Operation(method, path, match.group(1), summary))
    return found


def best_operation(case: str, document: str) -> Operation:
    """The operation whose summary shares the most words with the use case (the first on a tie)."""
    words = set(slug(case).split("_"))
    candidates = operations(document) or [Operation("GET", "/", "root")]
    return max(candidates, key=lambda op: len(words & set(slug(op.summary).split("_"))))


def split_cases(request: SimRequest) -> Answer:
    """The split step: the list items under "# Business use cases" (every line, when there is no
    list), one per line."""
    lines = [
        line for line in request.prompt.split("# Business use cases", 1)[-1].splitlines() if line.strip()
    ]
    bullets = [line for line in lines if _BULLET.match(line)]
    cases = [_BULLET.sub("", line).strip() for line in bullets or lines]
    return call_tool("submit_answer", text="\n".join(cases))


def plan(request: SimRequest) -> Answer:
    """A plan naming the use case and the operation it calls, for the later prompts to carry."""
    case = _CASE.findall(request.prompt)[-1]
    op = best_operation(case, request.prompt)
    body = f"### Goal\nUse case: {case}\nOperation: {op.method} {op.path} ({op.operation_id})\n"
    return call_tool("submit_plan", title=f"Integrate: {case}"[:69], body=body)


def task_list(request: SimRequest) -> Answer:
    name = slug(_CASE.findall(request.prompt)[-1])
    steps = [
        {
            "title": "Write the integration",
            "description": "The module.",
            "files": [f"integrations/{name}.py"],
        },
        {"title": "Test the integration", "description": "Its test.", "files": [f"tests/test_{name}.py"]},
    ]
    return call_tool("submit_task_list", review="No concerns.", steps=steps)


def execute(request: SimRequest) -> Answer:
    """Step 1 writes the module calling the plan's operation, step 2 its test; then `step_done`."""
    text = request.system + "\n" + request.prompt
    case = _CASE.findall(text)[-1]
    method, path, operation_id = _OPERATION.findall(text)[-1]
    target = re.findall(r"^Files: (\S+)$", request.prompt, re.MULTILINE)[-1]
    if request.find_results("write_file") and request.turns_since_user() > 0:
        return call_tool("step_done", summary=f"Wrote {target}.")
    name = slug(case)
    if target.startswith("integrations/"):
        content = _module(case, method, path, operation_id)
    else:
        params = dict.fromkeys(re.findall(r"{(\w+)}", path), "1")
        arguments = "".join(f", {key}={value!r}" for key, value in params.items())
        url = "https://api.test" + path.format(**params)
        content = (
            f"from integrations.{name} import request\n\n\n"
            f"def test_{name}_calls_{operation_id.lower()}() -> None:\n"
            f'    assert request("https://api.test/"{arguments}) == ({method!r}, {url!r})\n'
        )
    return call_tool("write_file", path=target, content=content)


def _module(case: str, method: str, path: str, operation_id: str) -> str:
    return (
        f'"""{case}: {method} {path} ({operation_id})."""\n\n'
        f"USE_CASE = {case!r}\n"
        f"OPERATION = ({method!r}, {path!r})\n\n\n"
        "def request(base_url: str, **params: str) -> tuple[str, str]:\n"
        '    """The HTTP method and URL that carry out the use case."""\n'
        "    method, path = OPERATION\n"
        '    return method, base_url.rstrip("/") + path.format(**params)\n'
    )


def document(request: SimRequest) -> Answer:
    """The doc-writer: one page listing the integration modules it was given."""
    if request.turns_since_user() > 0:
        return call_tool("agent_done", summary="Documented the integrations.", notes=["docs/integrations.md"])
    modules = re.findall(r"^- (integrations/\S+\.py)$", request.prompt, re.MULTILINE)
    lines = "".join(f"- `{module}`: `request(base_url, **params)`\n" for module in modules)
    return call_tool("write_file", path="docs/integrations.md", content=f"# Integrations\n\n{lines}")


def integration_team() -> Rules:
    """Splits use cases, plans and writes one module and one test per use case, documents them, and
    passes every verdict (the project's test command is what checks the code)."""
    return Rules(
        (offers_tool("submit_answer"), split_cases),
        (offers_tool("submit_questions"), call_tool("submit_questions", questions=[])),
        (offers_tool("submit_plan"), plan),
        (offers_tool("submit_task_list"), task_list),
        (offers_tool("step_done"), execute),
        (offers_tool("agent_done"), document),
        (
            offers_tool("submit_plan_verdict"),
            call_tool("submit_plan_verdict", verdict="pass", summary="As planned."),
        ),
        (
            offers_tool("submit_ask_verdict"),
            call_tool("submit_ask_verdict", verdict="pass", summary="As asked."),
        ),
    )
