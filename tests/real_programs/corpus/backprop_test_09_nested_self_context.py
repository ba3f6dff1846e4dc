# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testNestedSelfContexts + testGradientTapeReEnterContext.
# Changes: public tf names; assertRaises becomes a printed exception.
import tensorflow as tf

v1 = tf.Variable(1.0)
with tf.GradientTape() as t:
    try:
        with t:
            pass
    except ValueError as error:
        print("ValueError:", error)

g = tf.GradientTape()
with g:
    x = tf.constant(3.0)
    g.watch(x)
    y = 2 * x
with g:
    z = 2 * y
print(g.gradient(target=z, sources=[x]))
