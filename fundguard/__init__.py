"""FundGuard 医保基金智能监管平台."""

__version__ = "0.1.0"
