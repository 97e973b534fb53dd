"""The scoring service behind ``serving/service.py``: request handling, API keys, audit and the web console.

``serving/service.py`` holds only the BentoML class; everything it calls lives here so that
it is tested like the rest of the library. The scorer (models, ledger) is imported only when
the service starts, so that importing the service definition stays quick.
"""

from riskmodel.service.api import GUARDED_ROUTES, RiskApi
from riskmodel.service.gate import RequestGate
from riskmodel.service.settings import ServiceSettings
from riskmodel.service.web import web_app

__all__ = ["GUARDED_ROUTES", "RequestGate", "RiskApi", "ServiceSettings", "web_app"]
