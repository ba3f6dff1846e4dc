# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testSelectivelyWatchVariables + testDifferentiatingScalarCache +
# testVariablesAndConstantsProduceTheSameGradients.
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

x1 = tf.Variable(1.0)
x2 = tf.Variable(1.0)
with tf.GradientTape(watch_accessed_variables=False) as tape:
    tape.watch(x2)
    y = x1**2
    z = x2**3
print(tape.watched_variables() == (x2,))
dy, dz = tape.gradient([y, z], [x1, x2])
print(dy, dz.numpy())

with tf.GradientTape(persistent=False) as g:
    x1 = tf.constant(3.0)
    x2 = tf.constant(3.0)
    g.watch(x1)
    g.watch(x2)
    y = x1 + x2
print(g.gradient(target=y, sources=[x1]))


def get_grads(a, b):
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        y = a**3
        z = b**2
    return tape.gradient([y, z], [a, b])


print(get_grads(tf.constant(2.0), tf.constant(2.0)))
print(get_grads(tf.Variable(2.0), tf.Variable(2.0)))
