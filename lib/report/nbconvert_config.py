# nbconvert configuration used by `npm run report` (lib/report/execute.ts passes it with --config).
#
# tslab answers a failed cell with an execute_reply whose status is "error" but without ename/evalue, so
# nbconvert's own log only says "<Error>:". The real message (a type error or a runtime error with its
# stack) is in the cell's stderr output. These hooks:
#  - write the failing cell (index, source, outputs) as JSON to $PIXEL_REPORT_ERROR_FILE, so the report
#    command can print the real error;
#  - turn an "abort" reply (tslab drops cells queued after an error) into a failure instead of a silent skip;
#  - number the prompts (tslab sends no execute_input, so exports would show "In [ ]");
#  - write the index of the cell being executed to $PIXEL_REPORT_CELL_FILE (progress on the terminal).
import json
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

_state = {"count": 0}


def _record_failure(cell, cell_index, execute_reply, reason):
    path = os.environ.get("PIXEL_REPORT_ERROR_FILE")
    failure = {
        "cellIndex": cell_index,
        "reason": reason,
        "source": cell.get("source", ""),
        "outputs": cell.get("outputs", []),
        "reply": (execute_reply or {}).get("content", {}),
    }
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(failure, f)


def on_cell_execute(cell, cell_index):
    path = os.environ.get("PIXEL_REPORT_CELL_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"cellIndex": cell_index}, f)


def on_cell_executed(cell, cell_index, execute_reply):
    _state["count"] += 1
    cell["execution_count"] = _state["count"]
    status = (execute_reply or {}).get("content", {}).get("status")
    if status == "abort":
        _record_failure(cell, cell_index, execute_reply, "aborted")
        raise RuntimeError(
            f"cell {cell_index} was aborted by the kernel (status 'abort'): an earlier error dropped it"
        )


def on_cell_error(cell, cell_index, execute_reply):
    _record_failure(cell, cell_index, execute_reply, "error")


c.ExecutePreprocessor.on_cell_execute = on_cell_execute
c.ExecutePreprocessor.on_cell_executed = on_cell_executed
c.ExecutePreprocessor.on_cell_error = on_cell_error
