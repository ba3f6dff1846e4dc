# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, BackpropTest.testTwoTargets (Python ints on the left of tensors).
# Changes: constant_op/backprop names replaced by their public tf names; asserts become prints.
import tensorflow as tf

with tf.GradientTape() as t:
    x = tf.constant(3.0)
    y = tf.constant(2.0)
    t.watch([x, y])
    xx = 2 * x
    yy = 3 * y
dx, dy = t.gradient([xx, yy], [x, y])
print(dx, dy)
