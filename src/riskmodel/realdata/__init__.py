"""Public credit data sets as training tables for the same model code (benchmarks against published results).

``load_taiwan`` maps the Taiwan credit-card default set to customer-level default features;
``load_german`` turns the German credit set into application data for an onboarding model.
Both leave the protected attributes out unless asked, and return a :class:`RealDataSet`
to train with :func:`riskmodel.models.fit.fit_model_on_split`.
"""

from riskmodel.realdata.dataset import RealDataSet, stratified_holdout
from riskmodel.realdata.german import load_german
from riskmodel.realdata.taiwan import load_taiwan

__all__ = [
    "RealDataSet",
    "load_german",
    "load_taiwan",
    "stratified_holdout",
]
