# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell DArPWqsSh5un (a non-scalar target: Variable times a Python list).
import tensorflow as tf

x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y = x * [3.0, 4.0]
print(tape.gradient(y, x).numpy())
