# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testTapeGradientStringTarget, testTapeNoOpGradientStringSourceAndTarget,
# testTapeNoOpGradientWithMultiTargetMultiSourceIncludeString.
# Changes: public tf names; asserts become prints.
import tensorflow as tf

s = tf.constant("unknown", dtype=tf.string)
x = tf.constant(3.0)
with tf.GradientTape() as t:
    t.watch(x)
    t.watch(s)
print(t.gradient(s, x))

with tf.GradientTape() as t:
    t.watch(s)
print(t.gradient(s, s))

y = tf.constant(5.0)
with tf.GradientTape() as t:
    t.watch(x)
    t.watch(y)
    t.watch(s)
    z = y * y
grads = t.gradient([x, y, z, s], [x, y, s])
print(grads[:2], grads[2])
