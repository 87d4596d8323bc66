"""Group a CSV of cases on Spark with drg, through mapInPandas.

    python examples/spark_group.py --pack ../shared/rulepacks/chs-drg-1.1 \
        --input ../shared/testdata/chs-drg-1.1/cases.csv --output out/ [--master local[2]]

Each Python worker opens the pack once (a module-level cache), not once per
row or per batch; rows are grouped a whole Arrow batch at a time, with the
GIL released. The output is the input's columns with the result columns
(status, mdc, adrg, drg, drg_name, reason, warnings) added, as CSV.
"""

import argparse
import os
import sys
from typing import Dict, Iterator

import drg

_GROUPERS: Dict[str, "drg.Grouper"] = {}


def grouper_for(pack: str) -> "drg.Grouper":
    """The Grouper of this worker process for `pack`, opened on first use."""
    grouper = _GROUPERS.get(pack)
    if grouper is None:
        grouper = _GROUPERS[pack] = drg.Grouper(pack)
    return grouper


def group(df, pack: str):
    """A Spark DataFrame of cases (columns of specs/cases.md) with the result
    columns added."""
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType(
        list(df.schema.fields) + [StructField(name, StringType(), True) for name in drg.RESULT_COLUMNS]
    )

    def group_batches(batches: Iterator) -> Iterator:
        grouper = grouper_for(pack)
        for batch in batches:
            yield grouper.group_frame(batch)

    return df.mapInPandas(group_batches, schema)


def main() -> None:
    from pyspark.sql import SparkSession

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", required=True, help="a drgpack/1 directory, readable by every worker")
    parser.add_argument("--input", required=True, help="a CSV of cases")
    parser.add_argument("--output", required=True, help="a directory for the grouped CSV")
    parser.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    args = parser.parse_args()

    # Workers run the driver's Python (with drg installed) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("drg group")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        # Every column as a string: drg reads codes, ages and costs itself.
        cases = spark.read.csv(args.input, header=True, inferSchema=False)
        group(cases, args.pack).write.mode("overwrite").csv(args.output, header=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
