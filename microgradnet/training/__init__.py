"""Training on real data with replayed graphs: the digits data set, models, training loops with
a progress bar, the seeds' experiments and export to PyTorch."""
from .data import SPLITS, DigitSplits, MissingExtra, Split, load_digits, make_moons
from .models import MODEL_KINDS, Classifier, build_model
from .progress import Progress, progress, progress_bar
from .trainer import History, TrainConfig, accuracy, fit, fit_batchnorm, predict

__all__ = ["DigitSplits", "Split", "load_digits", "make_moons", "SPLITS", "MissingExtra",
           "progress_bar", "MODEL_KINDS", "Classifier", "build_model",
           "Progress", "progress", "History", "TrainConfig", "accuracy", "fit", "fit_batchnorm",
           "predict"]
