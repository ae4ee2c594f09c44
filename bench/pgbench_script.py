#!/usr/bin/env python3
"""pgbench scripts of the same SQL as the server's, for bench/run.

    pgbench_script.py defines list|note VALUES_JSON OUT_DEFINES
    pgbench_script.py script  list|note STATEMENT_JSON ACTIVITY_SAMPLES VALUES_JSON OUT_SCRIPT

VALUES_JSON, list: {"tenant", "therapist", "now", "since", "limit"}; note: {"row": a clinical_notes row written by the server}.
`defines` writes every value as `name=value` lines, for pgbench -D (they also serve bench/sql/*.pgbench).

STATEMENT_JSON: {"query", "queryid", "calls"}, the server's statement from pg_stat_statements; ACTIVITY_SAMPLES:
{"query_id", "query"} lines, pg_stat_activity sampled during the load. When a sample has the statement's queryid,
its text is what the server sent: every $n is one of the server's parameters. Otherwise it is pg_stat_statements'
normalized text, where the server's inline constants are $n too: those are put back inline (the LIMIT, the
excluded statuses).
Each $n becomes a pgbench variable named for the column it is compared with. pgbench numbers every use of a variable
as a new parameter, so a parameter the server uses twice is two parameters here, with the same value.
`script` prints the statement and its mapping; it exits 2 when a parameter cannot be mapped (bench/run then uses
the static script in bench/sql/).
"""
import json
import re
import sys

PARAM = re.compile(r"\$(\d+)")
ZERO_UUID = "00000000-0000-0000-0000-000000000000"


def fail(reason):
    sys.stderr.write(reason + "\n")
    sys.exit(2)


def list_defines(values):
    return {"tenant": values["tenant"], "therapist": values["therapist"], "now": values["now"], "since": values["since"],
            "zero": ZERO_UUID, "limit": str(values["limit"])}


def note_defines(values):
    return {"c_" + column: str(value) for column, value in values["row"].items() if value is not None}


def last_name(expression):
    return expression.strip().split(".")[-1].lower()


def compared_with(text, start, end):
    """(column, operator) for the parameter at text[start:end]: the column it is compared with, the clause it is in
    (LIMIT, OFFSET), or the column of an IN list or of a row comparison such as (a.starts_at, a.id) > ($3, $4)."""
    before, after = text[:start], text[end:]
    m = re.search(r"([A-Za-z_][\w.]*)\s*(=|<>|!=|<=|>=|<|>)\s*$", before)
    if m:
        return last_name(m.group(1)), m.group(2)
    m = re.search(r"\(([^()]*)\)\s*(=|<>|!=|<=|>=|<|>)\s*\(((?:\s*\$\d+\s*,)*)\s*$", before)
    if m:
        columns = m.group(1).split(",")
        position = m.group(3).count(",")
        if position < len(columns):
            return last_name(columns[position]), m.group(2)
    m = re.search(r"([A-Za-z_][\w.]*)\s+(NOT\s+)?IN\s*\(\s*(?:\$\d+\s*,\s*)*$", before, re.I)
    if m:
        return last_name(m.group(1)), "NOT IN" if m.group(2) else "IN"
    m = re.match(r"\s*(?:::\w+\s*)?(=|<>|!=|<=|>=|<|>)\s*([A-Za-z_][\w.]*)", after)
    if m:
        flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
        return last_name(m.group(2)), flipped.get(m.group(1), m.group(1))
    for clause in ("LIMIT", "OFFSET"):
        if re.search(r"\b%s\s*$" % clause, before, re.I):
            return clause, ""
    return None, None


def list_rendering(query, exact, values):
    """Each $n's replacement in the pgbench script: a :variable, or (normalized text only) a constant put back."""
    defines = list_defines(values)
    excluded, upcoming = ["cancelled", "completed", "no_show"], ["scheduled", "confirmed", "in_progress"]
    rendering, shown = {}, []
    for m in PARAM.finditer(query):
        n = m.group(1)
        column, op = compared_with(query, m.start(), m.end())
        if not exact and column == "LIMIT":
            limit = values["limit"]
            rendering[m.start()] = str(limit); shown.append(f"${n} -> {limit} (the server's LIMIT constant: a page's items + 1)"); continue
        if not exact and column == "OFFSET":
            rendering[m.start()] = "0"; shown.append(f"${n} -> 0 (OFFSET constant)"); continue
        if not exact and column == "status" and op in ("IN", "NOT IN"):
            statuses = excluded if op == "NOT IN" else upcoming
            k = len(PARAM.findall(re.search(r"IN\s*\(([^)]*)$", query[:m.end()], re.I).group(1))) - 1
            if k >= len(statuses):
                fail(f"status list longer than {len(statuses)} at ${n}")
            rendering[m.start()] = f"'{statuses[k]}'"; shown.append(f"${n} -> '{statuses[k]}' (the server's status {op} constant)")
            continue
        if column == "tenant_id":
            name = "tenant"
        elif column in ("therapist_id", "care_therapist_id", "assigned_therapist_id"):
            name = "therapist"
        elif column == "ends_at" or (column == "starts_at" and op in ("<", "<=")):
            name = "now"
        elif column == "starts_at":
            # The server bounds the start by now minus the longest appointment (8 hours): the index skips the past.
            name = "since"
        elif column == "id":
            name = "zero"  # the keyset position of a first page
        elif column == "LIMIT":
            name = "limit"
        else:
            fail(f"cannot map ${n} (compared with {column} {op}) to a value")
        rendering[m.start()] = ":" + name
        shown.append(f"${n} -> :{name} = {defines[name]} ({column} {op})".rstrip())
    return rendering, shown


def note_rendering(query, exact, values):
    m = re.match(r"\s*INSERT\s+INTO\s+clinical_notes\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)\s*$", query, re.I | re.S)
    if not m:
        fail("not a single-row INSERT INTO clinical_notes (...) VALUES (...)")
    columns = [c.strip() for c in m.group(1).split(",")]
    slots = list(re.finditer(r"[^,\s][^,]*", m.group(2)))
    if len(columns) != len(slots):
        fail(f"{len(columns)} columns but {len(slots)} values")
    row, rendering, shown = values["row"], {}, []
    for column, slot in zip(columns, slots):
        text = slot.group(0).strip()
        if not PARAM.fullmatch(text):
            fail(f"the value of {column} is not a parameter: {text}")
        if column not in row:
            fail(f"no value for column {column} in the sample row")
        at = m.start(2) + slot.start()
        value = row[column]
        if column == "id":
            rendering[at] = "gen_random_uuid()"; shown.append(f"{text} {column} -> gen_random_uuid() (a new row each time)")
        elif value is None:
            rendering[at] = "NULL"; shown.append(f"{text} {column} -> NULL (inline: pgbench cannot bind a NULL)")
        else:
            rendering[at] = ":c_" + column
            value = str(value)
            shown.append(f"{text} {column} -> :c_{column} = " + (value if len(value) <= 64 else value[:40] + f"... ({len(value)} characters)"))
    return rendering, shown


def captured_statement(statement_path, samples_path):
    """pg_stat_statements' entry, with the text as sent when a pg_stat_activity sample of the load has its queryid."""
    captured = json.load(open(statement_path))
    captured["exact"] = False
    try:
        for line in open(samples_path):
            sample = json.loads(line)
            # A text as long as track_activity_query_size allows may be cut short.
            if sample["query_id"] == captured["queryid"] and len(sample["query"].encode()) < 16383:
                captured.update(query=sample["query"], exact=True)
                break
    except FileNotFoundError:
        pass
    return captured


def script(mode, statement_path, samples_path, values_path, out_path):
    captured, values = captured_statement(statement_path, samples_path), json.load(open(values_path))
    query = captured["query"].strip().rstrip(";").strip()
    exact = bool(captured.get("exact"))
    # The server writes a note and its audit event (into audit_inbox) in one statement; PostgreSQL alone runs the
    # note's INSERT, as before the two were one statement.
    combined = mode == "note" and re.match(
        r"\s*WITH\s+note\s+AS\s*\((\s*INSERT\s+INTO\s+clinical_notes\b.*?VALUES\s*\([^)]*\))\s*\)\s*INSERT\s+INTO\s+audit_inbox\b", query, re.I | re.S)
    if combined:
        query = combined.group(1).strip()
    # The same with the note's checks in it (InsertNoteIfWritable): the row is SELECTed from the patient it is for,
    # written only if the checks hold. PostgreSQL alone runs the note's INSERT with the same values.
    checked = mode == "note" and not combined and re.match(
        r"\s*WITH\s+note\s+AS\s*\(\s*INSERT\s+INTO\s+clinical_notes\s*\(([^)]*)\)\s*SELECT\s+((?:\$\d+\s*,\s*)*\$\d+)\s+FROM\s+patients\b"
        r".*?\bRETURNING\s+id\s*\)\s*INSERT\s+INTO\s+audit_inbox\b", query, re.I | re.S)
    if checked:
        query = f"INSERT INTO clinical_notes ({checked.group(1).strip()})\nVALUES ({checked.group(2).strip()})"
    rendering, shown = (list_rendering if mode == "list" else note_rendering)(query, exact, values)
    text = PARAM.sub(lambda m: rendering[m.start()], query)
    if mode == "note":
        text = re.sub(r"^(\s*INSERT\s+INTO\s+)clinical_notes\b", r"\1bench_notes", text, flags=re.I)
    open(out_path, "w").write(text + ";\n")
    source = "pg_stat_activity: the text as sent" if exact else "pg_stat_statements: normalized text, where constants are $n too"
    print(f"captured statement ({source}; queryid {captured.get('queryid')}, {captured.get('calls')} calls by the server):")
    print("  " + query.replace("\n", "\n  "))
    if combined:
        print("  (the note's part of the server's statement, which also writes the request's audit event into audit_inbox)")
    if checked:
        print("  (the note's INSERT with the values of the server's statement, which also checks the patient and appointment")
        print("   it is for and writes the request's audit event into audit_inbox)")
    print("parameters:")
    for line in dict.fromkeys(shown):  # a parameter used twice is shown once
        print("  " + line)


if __name__ == "__main__":
    command, mode = sys.argv[1], sys.argv[2]
    if command == "defines":
        values = json.load(open(sys.argv[3]))
        defines = list_defines(values) if mode == "list" else note_defines(values)
        open(sys.argv[4], "w").write("".join(f"{k}={v}\n" for k, v in defines.items()))
    elif command == "script":
        script(mode, *sys.argv[3:7])
    else:
        sys.exit("unknown command " + command)
