# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testGradientWithinTapeBlock (2 * v1, gradient inside the with block; TF logs a
# warning for the persistent tape).
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

v1 = tf.Variable(1.0)
with tf.GradientTape() as t:
    loss = 2 * v1
    grad = t.gradient(loss, v1)
print(grad)

with tf.GradientTape(persistent=True) as t:
    loss = 2 * v1
    grad = t.gradient(loss, v1)
print(grad)
