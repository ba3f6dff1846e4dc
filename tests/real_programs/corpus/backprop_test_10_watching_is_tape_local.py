# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testWatchingIsTapeLocal (non-trainable variables watched by nested tapes).
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

x1 = tf.Variable(2.0, trainable=False)
x2 = tf.Variable(2.0, trainable=False)
with tf.GradientTape() as tape1:
    with tf.GradientTape() as tape2:
        tape1.watch(x1)
        tape2.watch([x1, x2])
        y = x1**3
        z = x2**2
        dy, dz = tape2.gradient([y, z], [x1, x2])
    d2y, d2z = tape1.gradient([dy, dz], [x1, x2])
print(d2y.numpy(), d2z)
