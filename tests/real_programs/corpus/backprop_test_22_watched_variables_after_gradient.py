# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testWatchedVariablesAfterNonPersistentGradientCall,
# testWatchedVariablesOnlyHasVariablesFromLastTape, testWatchedVariablesRespectReset.
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

with tf.GradientTape(persistent=False) as tape:
    x = tf.Variable(1.0)
    tape.watch(x)
tape.gradient(x, x)
print(tape.watched_variables() == (x,))

with tf.GradientTape(persistent=False) as tape:
    x = tf.Variable(1.0)
    tape.watch(x)
with tf.GradientTape(persistent=False) as tape:
    z = tf.Variable(2.0)
    tape.watch(z)
tape.gradient(z, z)
print(tape.watched_variables() == (z,))

with tf.GradientTape(persistent=False) as tape:
    x = tf.Variable(1.0)
    tape.watch(x)
    print(tape.watched_variables() == (x,))
    tape.reset()
    z = tf.Variable(2.0)
    tape.watch(z)
    print(tape.watched_variables() == (z,))
tape.gradient(z, z)
print(tape.watched_variables() == (z,), len(tape.watched_variables()))
