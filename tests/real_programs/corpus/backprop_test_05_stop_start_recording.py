# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testTapeStopRecording + testTapeStopStartRecording.
# Changes: ResourceVariable -> tf.Variable; asserts become prints.
import tensorflow as tf

with tf.GradientTape() as t:
    x = tf.Variable(1.0)
    with t.stop_recording():
        y = x * x
print(t.gradient(y, x))

with tf.GradientTape(persistent=True) as t:
    x = tf.Variable(1.0)
    x2 = x * 2
    with t.stop_recording():
        y = x2 * x2
    z = x2 * x2
print(t.gradient(y, x2))
print(t.gradient(z, x2).numpy())
