# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cells 39YXItgLxMBk, CigTWyfPvPuv, pRLzTTbvEimH, FJjZpYRnDjVa (Jacobian, tensor source).
# Changes: the Dense layer is written out as variables; seeded random inputs; displayed values printed.
import tensorflow as tf

tf.random.set_seed(2)
x = tf.random.normal([7, 5])
kernel = tf.Variable(tf.random.normal([5, 10]))
bias = tf.Variable(tf.zeros([10]))
with tf.GradientTape(persistent=True) as tape:
    y = tf.nn.relu(x @ kernel + bias)
print(y.shape)
print(kernel.shape)
j = tape.jacobian(y, kernel)
print(j.shape)
g = tape.gradient(y, kernel)
print("g.shape:", g.shape)
j_sum = tf.reduce_sum(j, axis=[0, 1])
delta = tf.reduce_max(abs(g - j_sum)).numpy()
assert delta < 1e-3
print("delta small:", delta < 1e-3)
