# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testPythonMax (Python's max over variables).
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

x = [tf.Variable(2.0), tf.Variable(3.0), tf.Variable(5.0)]
with tf.GradientTape() as t:
    f = max(x)
grad = t.gradient(f, x)
print(f.numpy())
print(grad)
