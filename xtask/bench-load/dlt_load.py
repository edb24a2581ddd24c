"""Loads a contacts CSV into a SQLite table with dlt, for `cargo xtask bench load`.

    python dlt_load.py CSV DATABASE WORK_DIR

The CSV is read with the standard library's csv module and handed to dlt in
chunks of 10,000 rows (dlt's usual way to take a Python iterable); dlt then
extracts, normalises and loads it into table `contacts` through its
sqlalchemy destination. WORK_DIR holds dlt's pipeline state.
"""

import csv
import sys
from itertools import islice

import dlt


def main() -> None:
    csv_path, database, work_dir = sys.argv[1:4]

    @dlt.resource(name="contacts", write_disposition="replace")
    def contacts():
        with open(csv_path, newline="", encoding="utf-8") as file:
            rows = csv.DictReader(file)
            while chunk := list(islice(rows, 10_000)):
                yield chunk

    pipeline = dlt.pipeline(
        pipeline_name="bench_load",
        destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{database}"),
        dataset_name="main",
        pipelines_dir=work_dir,
    )
    print(pipeline.run(contacts()))


if __name__ == "__main__":
    main()
