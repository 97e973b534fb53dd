"""Model validation: out-of-time rows rebuilt as training cut them, the statistics a validator signs off, drift, figures.

The modules are imported by name (nothing is re-exported here, so that training can use
:mod:`riskmodel.validation.drift` without loading the rest):

- :mod:`~riskmodel.validation.data`: champion runs and their out-of-time rows, rebuilt from the ledger
- :mod:`~riskmodel.validation.stats`: bootstrap intervals, binomial tests by grade
- :mod:`~riskmodel.validation.summary`: discrimination, calibration, benchmark and sign-off tables
- :mod:`~riskmodel.validation.drift`: population and characteristic stability (PSI), the drift reference
- :mod:`~riskmodel.validation.model_figures`, :mod:`~riskmodel.validation.ledger_figures`,
  :mod:`~riskmodel.validation.ledger_profile`: figures and the ledger exploration
- :mod:`~riskmodel.validation.report`: the validation notebook run headless as one HTML file

The validation notebook (``notebooks/02_model_validation.py``) and ``riskmodel report`` call
these; the portfolio tables (grades, exposure, migration) live in :mod:`riskmodel.portfolio`.
"""
