"""Training on real data with replayed graphs: the digits data set, models, training loops with
a progress bar, the seeds' experiments and export to PyTorch."""
from .data import DigitSplits, Split, load_digits
from .models import MODEL_KINDS, Classifier, build_model
from .progress import Progress, progress
from .trainer import History, TrainConfig, accuracy, fit, fit_batchnorm, predict

__all__ = ["DigitSplits", "Split", "load_digits", "MODEL_KINDS", "Classifier", "build_model",
           "Progress", "progress", "History", "TrainConfig", "accuracy", "fit", "fit_batchnorm",
           "predict"]
