# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testUnconnectedGradientsDefault, testUnconnectedGradientsZeros,
# testUnconnectedGradientsVariablesZeros, testUnknownUnconnectedGradientsValueGiven.
# Changes: public tf names; assertRaises becomes a printed exception.
import tensorflow as tf

x = tf.constant(1.0)
y = tf.constant(3.0)
with tf.GradientTape() as g:
    g.watch([x, y])
    z = y * 2
print(g.gradient(z, x))

x = tf.constant(1.0, shape=[2, 2])
with tf.GradientTape() as g:
    g.watch([x, y])
    z = y * 2
print(g.gradient(z, x, unconnected_gradients="zero"))

x = tf.Variable(tf.constant(1.0, shape=[2, 2]))
y = tf.Variable(tf.constant(3.0))
with tf.GradientTape() as g:
    g.watch([x, y])
    z = y * 2
print(g.gradient(z, x, unconnected_gradients="zero"))

with tf.GradientTape() as g:
    g.watch([x, y])
    z = y * 2
try:
    g.gradient(z, x, unconnected_gradients="nonsense")
except ValueError as error:
    print("ValueError:", error)
