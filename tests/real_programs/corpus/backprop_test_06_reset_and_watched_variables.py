# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testTapeReset, testAutomaticWatchedVariables, testExplicitWatchedVariables.
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

with tf.GradientTape() as t:
    v = tf.Variable(1.0)
    loss = v * v
    t.reset()
    loss += v * v
print(t.gradient(loss, v))

with tf.GradientTape() as t:
    print(len(t.watched_variables()))
    v = tf.Variable(1.0)
    loss = v * v
    print(t.watched_variables() == (v,), len(t.watched_variables()))
    t.reset()
    print(len(t.watched_variables()))
    loss += v * v
    print(len(t.watched_variables()))

with tf.GradientTape() as t:
    v = tf.Variable(1.0)
    t.watch(v)
    print(len(t.watched_variables()))
    t.reset()
    print(len(t.watched_variables()))
    t.watch(v)
    print(len(t.watched_variables()))
