# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell JQvk_jnMmTDS (elementwise gradient over tf.linspace).
# Changes: the plotting cell is replaced by printing the shape and a few values.
import tensorflow as tf

x = tf.linspace(-10.0, 10.0, 200 + 1)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = tf.nn.sigmoid(x)
dy_dx = tape.gradient(y, x)
print(x.shape, dy_dx.shape, dy_dx.dtype)
print(x[:3].numpy(), dy_dx[95:106:5].numpy())
print(float(tf.reduce_max(dy_dx)))
