# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testTapeGradientMultiTargetOneIsSource, testTapeNoOpGradientWithMultiTargetAllSource,
# testTapeNoOpGradientWithMultiTargetMultiSource, testTapeNoOpGradient2By2.
# Changes: public tf names; asserts become prints.
import tensorflow as tf

x = tf.constant(2.0)
with tf.GradientTape() as t:
    t.watch(x)
    y = x * x
print(t.gradient([x, y], x).numpy())

x = tf.constant(3.0)
with tf.GradientTape() as t:
    t.watch(x)
    y = x
print(t.gradient([y, y], x).numpy())

x = tf.constant(3.0)
y = tf.constant(5.0)
with tf.GradientTape() as t:
    t.watch(x)
    t.watch(y)
    z = y * y
print(t.gradient([x, y, z], [x, y]))

a_2_by_2 = tf.constant(2.0, shape=[2, 2])
with tf.GradientTape(persistent=True) as tape:
    tape.watch(a_2_by_2)
print(tape.gradient(a_2_by_2, [a_2_by_2])[0].numpy())
print(tape.gradient([a_2_by_2, a_2_by_2], [a_2_by_2])[0].numpy())
