"""`riskmodel validate`: exit codes 0 / 1 / 2, quarantine files and the summary."""

from __future__ import annotations

import pandas as pd

from riskmodel.cli import main
from tests.conftest import INVOICES_CSV


def test_clean_ledger_exits_0(write_ledger_files, tmp_path, capsys):
    code = main(["validate", str(write_ledger_files()), "--quarantine", str(tmp_path / "q")])
    out = capsys.readouterr().out
    assert code == 0
    assert "all rows accepted" in out
    assert not (tmp_path / "q").exists()


def test_rejected_rows_exit_1_and_land_in_quarantine(write_ledger_files, tmp_path, capsys):
    folder = write_ledger_files(invoices=INVOICES_CSV + "I9,C1,2023-02-01,2023-01-03,100,,,\n")
    code = main(["validate", str(folder), "--quarantine", str(tmp_path / "q")])
    out = capsys.readouterr().out
    assert code == 1
    assert "invoices.csv row 5: due_date 2023-01-03 is before issue_date 2023-02-01" in out
    quarantine = pd.read_csv(tmp_path / "q" / "invoices.csv", dtype=str)
    assert quarantine[["file", "row", "column"]].values.tolist() == [["invoices.csv", "5", "due_date"]]
    assert quarantine["invoice_id"].tolist() == ["I9"]
    # read = accepted + rejected in the printed table
    line = next(x for x in out.splitlines() if x.startswith("invoices "))
    read, accepted, rejected = (int(v.replace(",", "")) for v in line.split()[-3:])
    assert (read, accepted, rejected) == (4, 3, 1)


def test_strict_with_rejections_exits_2(write_ledger_files, tmp_path):
    folder = write_ledger_files(invoices=INVOICES_CSV + "I9,C1,2023-02-01,2023-01-03,100,,,\n")
    assert main(["validate", str(folder), "--strict", "--quarantine", str(tmp_path / "q")]) == 2


def test_unusable_input_exits_2_with_message_and_no_traceback(write_ledger_files, capsys):
    code = main(["validate", str(write_ledger_files(invoices=None))])
    err = capsys.readouterr().err
    assert code == 2
    assert "riskmodel validate: error:" in err and "invoices.csv or invoices.parquet" in err
    assert "Traceback" not in err


def test_stale_quarantine_file_is_removed_once_clean(write_ledger_files, tmp_path):
    quarantine = tmp_path / "q"
    bad = write_ledger_files("bad", invoices=INVOICES_CSV + "I9,C1,2023-02-01,2023-01-03,100,,,\n")
    main(["validate", str(bad), "--quarantine", str(quarantine)])
    assert (quarantine / "invoices.csv").exists()
    main(["validate", str(write_ledger_files("good")), "--quarantine", str(quarantine)])
    assert not (quarantine / "invoices.csv").exists()
