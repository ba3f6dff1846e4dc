# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testWatchBadThing (watching a NumPy array is a ValueError naming ndarray).
# Changes: assertRaisesRegex becomes a printed exception.
import numpy as np
import tensorflow as tf

g = tf.GradientTape()
try:
    g.watch(np.array(1.0))
except ValueError as error:
    print("ValueError:", error)
