"""Compares a dataset loaded by dlt with one loaded by `bdi load flow` from the same data.

Usage: python dlt_parity.py DLT_DUCKDB BDI_DUCKDB DATASET

Compares the data tables (dlt's `_dlt_*` and bdi's `_bdi_*` bookkeeping aside, but `_dlt_loads`
included), their columns with DuckDB types, and their row counts. Prints every difference and
exits 1 if there is one. Differences made on purpose are listed in docs/load.md, and none of them
shows up here: they are in what is not compared (bookkeeping tables, column order, row ids).
"""

import sys

import duckdb


def describe(path, dataset):
    con = duckdb.connect(path, read_only=True)
    tables = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
        [dataset],
    ).fetchall():
        if table.startswith("_bdi_") or (table.startswith("_dlt_") and table != "_dlt_loads"):
            continue
        tables.setdefault(table, {})[column] = data_type
    counts = {}
    for table in tables:
        if table == "_dlt_loads":
            continue
        counts[table] = con.execute(f'SELECT count(*) FROM "{dataset}"."{table}"').fetchone()[0]
    con.close()
    return tables, counts


def main():
    dlt_path, bdi_path, dataset = sys.argv[1:4]
    dlt_tables, dlt_counts = describe(dlt_path, dataset)
    bdi_tables, bdi_counts = describe(bdi_path, dataset)
    problems = []
    for table in sorted(set(dlt_tables) | set(bdi_tables)):
        if table not in bdi_tables:
            problems.append(f"table {table}: only dlt has it ({len(dlt_tables[table])} columns)")
            continue
        if table not in dlt_tables:
            problems.append(f"table {table}: only bdi has it ({len(bdi_tables[table])} columns)")
            continue
        d, b = dlt_tables[table], bdi_tables[table]
        for column in sorted(set(d) | set(b)):
            if column not in b:
                problems.append(f"{table}.{column}: only dlt has it ({d[column]})")
            elif column not in d:
                problems.append(f"{table}.{column}: only bdi has it ({b[column]})")
            elif d[column] != b[column]:
                problems.append(f"{table}.{column}: dlt {d[column]}, bdi {b[column]}")
        if table in dlt_counts and dlt_counts[table] != bdi_counts.get(table):
            problems.append(
                f"{table}: dlt has {dlt_counts[table]} rows, bdi {bdi_counts.get(table)}"
            )
    columns = sum(len(c) for c in dlt_tables.values())
    rows = sum(dlt_counts.values())
    print(
        f"compared {len(dlt_tables)} tables, {columns} columns and {rows} rows of dataset {dataset}"
    )
    for p in problems:
        print(f"  DIFFERENT {p}")
    if problems:
        print(f"{len(problems)} difference(s)")
        sys.exit(1)
    print("the same tables, columns, types and row counts")


if __name__ == "__main__":
    main()
