"""`set_all_random_seed` as CosyVoice's utils/common.py has it, minus torch.

np.random.seed is what makes a non-integer seed fail (TypeError) the way the real UI does.
"""
import random

import numpy as np


def set_all_random_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
