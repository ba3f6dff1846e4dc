# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testWhereGradient + testGradientTapeGradientCalledMultipleTimes.
# Changes: gradients_function written as a tape; assertRaises becomes a printed exception.
import tensorflow as tf

for value in (5.0, 50.0):
    x = tf.constant(value)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.where(x < 10, x, x * x)
    print(t.gradient(y, x).numpy())

with tf.GradientTape() as g:
    x = tf.constant(3.0)
    g.watch(x)
    y = x * x
    z = y * y
g.gradient(z, [x])
try:
    g.gradient(y, [x])
except RuntimeError as error:
    print("RuntimeError:", error)
