# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell 7XaPRAwUyYms (gradient with respect to an intermediate value).
import tensorflow as tf

x = tf.constant(3.0)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = x * x
    z = y * y
print(tape.gradient(z, y).numpy())
