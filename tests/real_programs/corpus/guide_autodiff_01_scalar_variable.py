# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cells Xq9GgTCP7a4A + LsvrwF6bHroC ("Gradient tapes").
# Changes: the notebook's displayed value is printed.
import tensorflow as tf

x = tf.Variable(3.0)
with tf.GradientTape() as tape:
    y = x**2
dy_dx = tape.gradient(y, x)
print(dy_dx.numpy())
print(dy_dx)
