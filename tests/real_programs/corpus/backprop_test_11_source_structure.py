# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testGradientTapeStructure + testGradientTapeRepeatedSource +
# testPersistentGradientTapeRepeatedSource (nested structures and repeated sources).
# Changes: public tf names; asserts become prints.
import tensorflow as tf

with tf.GradientTape(persistent=True) as g:
    x1 = tf.constant(3.0)
    x2 = tf.constant(3.1)
    x3 = tf.constant(3.2)
    g.watch(x1)
    g.watch(x2)
    g.watch(x3)
    y = x1 + 2 * x2 + 3 * x3
print(g.gradient(y, x1))
print(g.gradient(y, (x1,)))
print(g.gradient(y, [(x1, x2), (x2, x3)]))
print(g.gradient(y, (x1, x2, [x1, x3])))
print(g.gradient(y, [x1, {"x2": x2, "x3": x3}]))

with tf.GradientTape(persistent=True) as g:
    x = tf.constant(3.0)
    y = tf.constant(5.0)
    g.watch(x)
    g.watch(y)
    z = x * x + x * y
print(g.gradient(target=z, sources=[x, x]))
print(g.gradient(target=z, sources=[y, x]))
