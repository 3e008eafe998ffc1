"""The demo's code: a small shop repository, and what the simulated executors write into it.

Each task has two versions of its code, the way real attempts differ: one reads the orders export
row by row, the other reads the whole file into memory first. Which one an executor writes depends
on whether its plan carries the lesson about reading CSV input as a stream.
"""

from __future__ import annotations

import textwrap

SAMPLE_FILES = {
    "README.md": "# shop\n\nOrder reports for the shop.\n",
    "shop/__init__.py": '"""Order reports for the shop."""\n',
    "shop/orders.py": textwrap.dedent(
        '''\
        """Parsing single order records."""

        from decimal import Decimal


        def parse_amount(text: str) -> Decimal:
            """Amounts are written with a dot and two decimals, e.g. 12.50."""
            return Decimal(text.strip())
        '''
    ),
    "tests/__init__.py": "",
    "tests/test_orders.py": textwrap.dedent(
        """\
        import unittest
        from decimal import Decimal

        from shop.orders import parse_amount


        class ParseAmountTest(unittest.TestCase):
            def test_parses_two_decimals(self):
                self.assertEqual(parse_amount(" 12.50 "), Decimal("12.50"))
        """
    ),
}

TOP_STREAMING = '''\
"""Reports over order exports, which are too large to load whole."""

import csv
from collections import defaultdict
from decimal import Decimal

from shop.orders import parse_amount


def top_customers(path, n):
    """The n customers with the highest total, highest first; ties by name.

    The file is read row by row, so memory grows with the number of customers, not of orders.
    """
    totals = defaultdict(Decimal)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            totals[row["customer"]] += parse_amount(row["amount"])
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
'''

TOP_WHOLE_FILE = '''\
"""Reports over order exports."""

import csv
import io
from decimal import Decimal

from shop.orders import parse_amount


def top_customers(path, n):
    """The n customers with the highest total, highest first; ties by name."""
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    totals = {}
    for row in csv.DictReader(io.StringIO(content)):
        totals[row["customer"]] = totals.get(row["customer"], Decimal(0)) + parse_amount(row["amount"])
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
'''

TOP_TESTS = """\
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

from shop.report import top_customers


class TopCustomersTest(unittest.TestCase):
    def write(self, text):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = Path(folder.name) / "orders.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def test_highest_totals_first(self):
        path = self.write("customer,amount\\nann,10.00\\nbob,5.00\\nann,1.50\\ncid,7.25\\n")
        self.assertEqual(top_customers(path, 2), [("ann", Decimal("11.50")), ("cid", Decimal("7.25"))])

    def test_ties_are_broken_by_name(self):
        path = self.write("customer,amount\\nzoe,3.00\\namy,3.00\\n")
        self.assertEqual(top_customers(path, 2), [("amy", Decimal("3.00")), ("zoe", Decimal("3.00"))])

    def test_an_empty_export_has_no_customers(self):
        self.assertEqual(top_customers(self.write("customer,amount\\n"), 3), [])
"""

AVERAGE_STREAMING = '''\
"""Average order amounts per customer, over order exports of any size."""

import csv
from collections import defaultdict
from decimal import Decimal

from shop.orders import parse_amount


def average_order(path):
    """Each customer's mean order amount, rounded to cents; the export is read row by row."""
    totals = defaultdict(Decimal)
    counts = defaultdict(int)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            totals[row["customer"]] += parse_amount(row["amount"])
            counts[row["customer"]] += 1
    return {name: (totals[name] / counts[name]).quantize(Decimal("0.01")) for name in totals}
'''

AVERAGE_WHOLE_FILE = '''\
"""Average order amounts per customer."""

import csv
import io
from decimal import Decimal

from shop.orders import parse_amount


def average_order(path):
    """Each customer's mean order amount, rounded to cents."""
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    amounts = {}
    for row in rows:
        amounts.setdefault(row["customer"], []).append(parse_amount(row["amount"]))
    return {name: (sum(values) / len(values)).quantize(Decimal("0.01")) for name, values in amounts.items()}
'''

AVERAGE_TESTS = """\
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

from shop.averages import average_order


class AverageOrderTest(unittest.TestCase):
    def write(self, text):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = Path(folder.name) / "orders.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def test_mean_per_customer_rounded_to_cents(self):
        path = self.write("customer,amount\\nann,10.00\\nann,5.00\\nbob,1.00\\nbob,1.00\\nbob,2.00\\n")
        self.assertEqual(average_order(path), {"ann": Decimal("7.50"), "bob": Decimal("1.33")})

    def test_an_empty_export_has_no_customers(self):
        self.assertEqual(average_order(self.write("customer,amount\\n")), {})
"""
