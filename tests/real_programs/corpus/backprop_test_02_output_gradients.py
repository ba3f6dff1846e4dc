# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, BackpropTest.testOutputGradUsedInComputation (output_gradients as Python floats).
# Changes: public tf names; the assert becomes a print.
import tensorflow as tf

with tf.GradientTape() as t:
    x = tf.constant(3.0)
    y = tf.constant(2.0)
    t.watch([x, y])
    loss = x * y
(dx,) = t.gradient([loss, x], [x], output_gradients=[1.0, 2.0])
print(dx)
