"""holdem_lab: Monte Carlo CFR blueprints trained in resumable chunks."""
__version__ = "0.1.0"
