# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cells bAFeIE8EuVIq + iZ6awnDzr_BA (Jacobian with respect to a scalar source).
# Changes: the plot is replaced by printing a few values.
import tensorflow as tf

x = tf.linspace(-10.0, 10.0, 200 + 1)
delta = tf.Variable(0.0)
with tf.GradientTape() as tape:
    y = tf.nn.sigmoid(x + delta)
dy_dx = tape.jacobian(y, delta)
print(y.shape)
print(dy_dx.shape)
print(dy_dx[98:103].numpy())
